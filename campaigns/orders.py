"""What campaigns add to an order, in the order's transaction, and what a refund
takes back of it.

The campaigns come from the per-process cache (campaigns.catalogue): an order
queries none of them. It reads more only when an active campaign needs it: the
member's lifecycle stage when one targets segments (their tags when one targets
tags), whether this is their first
order when a welcome campaign runs, their spend when one targets a sprint.
Each campaign applied is a ledger entry of its own (source `campaign`, ref
`<code>/<order pk>`), pending like the order's base points, and a row of
`OrderCampaign`; a refund takes back each entry's share in proportion.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q

from members.models import Member
from personalisation.models import MemberTag
from points.ledger_sql import Balance
from points.models import Entry
from points.services import Source, points_earn, points_reverse
from shop.models import Order
from tiers.models import MemberTier
from tiers.selectors import member_spend, tiers_by_rank

from .catalogue import campaigns_active
from .documents import ORDER_KINDS
from .grants import campaign_budget_take
from .models import MemberSegment, OrderCampaign, OrderPoints
from .rules import LineFacts, MemberFacts, Offer, OrderFacts, order_offers, stack
from .selectors import near_next_tier, programme


@dataclass(frozen=True)
class Applied:
    code: str
    points: int


def _member_facts(
    member: Member, *, rate_rules: list[str], documents: list, today: dt.date
) -> MemberFacts:
    """What the campaigns' targets ask of the member: only what one of them uses
    is read (the paid plan is in the order's rate already)."""
    plan = next((rule.split(":", 1)[1] for rule in rate_rules if rule.startswith("plan:")), None)
    tier = ""
    if any(d.target.tiers or d.target.sprint for d in documents):
        tier = (
            MemberTier.objects.filter(pk=member.pk).values_list("tier__code", flat=True).first()
            or tiers_by_rank()[0].code
        )
    lifecycle = None
    if any(d.target.segments for d in documents):
        lifecycle = (
            MemberSegment.objects.filter(member=member).values_list("lifecycle", flat=True).first()
        )
    near = False
    if any(d.target.sprint for d in documents):
        spend, _orders = member_spend(member_id=member.pk, last_day=today)
        tiers = tiers_by_rank()
        current = next((t for t in tiers if t.code == tier), tiers[0])
        above = [t for t in tiers if t.rank > current.rank]
        near = near_next_tier(
            spend_minor=spend, next_threshold_minor=above[0].threshold_minor if above else None
        )
    tags: frozenset[str] = frozenset()
    if any(d.target.tags for d in documents):
        tags = frozenset(MemberTag.objects.filter(member=member).values_list("tag", flat=True))
    return MemberFacts(
        number=member.number,
        tier=tier,
        lifecycle=lifecycle,
        paid_plan=plan,
        near_next_tier=near,
        tags=tags,
    )


def order_campaigns_apply(
    *,
    order: Order,
    member: Member,
    lines: Iterable[LineFacts],
    rate_rules: list[str],
    available_from: dt.datetime | None,
    today: dt.date,
    locked: Balance,
) -> list[Applied]:
    """Every active campaign of an order kind that targets the member and whose
    conditions the order meets, stacked (campaigns.rules.stack) and paid by its
    budget: a ledger entry each, written on the balance row the order locked.
    Returns what was applied, by priority."""
    cached = [c for c in campaigns_active() if c.document.kind in ORDER_KINDS]
    if not cached:
        return []
    ids = {c.document.code: c.id for c in cached}
    documents = [c.document for c in cached]
    first_order = False
    if any(d.kind == "welcome" for d in documents):
        first_order = not Order.objects.filter(member=member).exclude(pk=order.pk).exists()
    facts = OrderFacts(
        placed_at=order.placed_at,
        net_minor=order.total_minor,
        lines=tuple(lines),
        first_order=first_order,
    )
    who = _member_facts(member, rate_rules=rate_rules, documents=documents, today=today)
    offers = order_offers(documents, order=facts, member=who, programme=programme())

    def affordable(offer: Offer) -> bool:
        return campaign_budget_take(
            campaign_id=ids[offer.document.code],
            document=offer.document,
            member_id=member.pk,
            points=offer.points,
        )

    applied = stack(offers, affordable=affordable)
    for offer in applied:
        code = offer.document.code
        points_earn(
            member=member,
            points=offer.points,
            source=Source(Entry.Source.CAMPAIGN, f"{code}/{order.pk}"),
            key=f"order:{order.shop.ledger_ref(order.order_id)}#{code}",
            available_from=available_from,
            effective_at=order.placed_at,
            reason=code,
            locked=locked,
        )
    OrderCampaign.objects.bulk_create(
        OrderCampaign(
            order=order,
            campaign_id=ids[o.document.code],
            points=o.points,
            variant=o.variant or "",
        )
        for o in applied
    )
    return [Applied(code=o.document.code, points=o.points) for o in applied]


def refund_key(refund_id: str) -> str:
    return f"refund:{refund_id}"


def refund_entries(refund_id: str) -> Q:
    """The ledger entries of one refund: the base share's, then one a campaign."""
    key = refund_key(refund_id)
    return Q(idempotency_key=key) | Q(idempotency_key__startswith=f"{key}#")


def order_refund_reverse(
    *, order: Order, refund_id: str, refunded_before: int, amount_minor: int
) -> int:
    """Take back the shares of an order's points that a refund of `amount_minor`
    undoes (the order's base points and each campaign's), each in the
    proportion of the money refunded so far, so that refunds adding up to the
    total take back exactly what was earned. `refund_id` as the ledger names it
    (Shop.ledger_ref). Returns the points taken back: less than that where some
    of a share's points expired (they are not taken again)."""
    campaigns = list(
        OrderCampaign.objects.filter(order=order)
        .select_related("campaign")
        .only("points", "campaign__code")
    )
    total_points = OrderPoints.objects.get(order=order).points
    base = total_points - sum(c.points for c in campaigns)
    shares = [
        (
            Source(Entry.Source.ORDER, order.shop.ledger_ref(order.order_id)),
            base,
            refund_key(refund_id),
        )
    ]
    for row in campaigns:
        code = row.campaign.code
        source = Source(Entry.Source.CAMPAIGN, f"{code}/{order.pk}")
        shares.append((source, row.points, f"{refund_key(refund_id)}#{code}"))
    total = order.total_minor or 1
    refunded_after = refunded_before + amount_minor
    reversed_points = 0
    for source, earned, key in shares:
        points = earned * refunded_after // total - earned * refunded_before // total
        if points and (
            entry := points_reverse(
                member=order.member,
                of_source=source,
                points=points,
                source=Source(Entry.Source.REFUND, refund_id),
                key=key,
                reason=f"refund of order {order.order_id}",
            )
        ):
            reversed_points -= entry.amount + entry.pending_change
    return reversed_points
