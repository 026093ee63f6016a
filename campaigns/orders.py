"""What campaigns add to an order, in the order's transaction, and what a refund
takes back of it.

The campaigns come from the per-process cache (campaigns.catalogue): an order
queries none of them. The member's tier, paid plan and spend are what the order
read under its lock, and whether this is their first order is asked in the
order's first round trip while a welcome campaign runs (`Known`); more is read
only when an active campaign needs it: the member's lifecycle stage when one
targets segments, their tags when one targets tags.
Each campaign applied is a ledger entry of its own (source `campaign`, ref
`<code>/<order pk>`), pending like the order's base points and written with
them (points.services.points_earn_together), and a row of `OrderCampaign`; a
refund takes back each entry's share in proportion.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q

from members.models import Member
from personalisation.models import MemberTag
from points.models import Entry
from points.services import Credit, Source, points_reverse
from shop.models import Order
from tiers.selectors import member_spend, tiers_by_rank

from .catalogue import campaigns_active
from .documents import ORDER_KINDS
from .grants import campaign_budget_take
from .models import MemberSegment, OrderCampaign, OrderPoints
from .rules import LineFacts, MemberFacts, Offer, OrderFacts, order_offers, stack
from .selectors import near_next_tier, programme


@dataclass(frozen=True)
class Applied:
    campaign_id: int
    code: str
    points: int
    variant: str  # empty outside an A/B test


@dataclass(frozen=True)
class Known:
    """What the order has read of the member already, under its lock: the
    campaigns ask for no more of it."""

    tier: str  # the tier's code, after the order's upgrade
    rate_rules: list[str]  # the order's rate's (`plan:<code>`: the paid plan's)
    spend_minor: int | None  # qualifying spend, this order included; None: not read
    first_order: bool | None  # None: not read (no welcome campaign was running)


def _member_facts(member: Member, *, known: Known, documents: list, today: dt.date) -> MemberFacts:
    """What the campaigns' targets ask of the member: what the order knows, and
    only what one of them uses of the rest is read."""
    plan = next((r.split(":", 1)[1] for r in known.rate_rules if r.startswith("plan:")), None)
    lifecycle = None
    if any(d.target.segments for d in documents):
        lifecycle = (
            MemberSegment.objects.filter(member=member).values_list("lifecycle", flat=True).first()
        )
    near = False
    if any(d.target.sprint for d in documents):
        tiers = tiers_by_rank()
        current = next((t for t in tiers if t.code == known.tier), tiers[0])
        above = [t for t in tiers if t.rank > current.rank]
        spend = known.spend_minor
        if spend is None:
            spend, _orders = member_spend(member_id=member.pk, last_day=today)
        near = near_next_tier(
            spend_minor=spend,
            next_threshold_minor=above[0].threshold_minor if above else None,
        )
    tags: frozenset[str] = frozenset()
    if any(d.target.tags for d in documents):
        tags = frozenset(MemberTag.objects.filter(member=member).values_list("tag", flat=True))
    return MemberFacts(
        number=member.number,
        tier=known.tier,
        lifecycle=lifecycle,
        paid_plan=plan,
        near_next_tier=near,
        tags=tags,
    )


def welcome_running() -> bool:
    """Whether a welcome campaign is active: an order then asks whether it is the
    member's first (order_sql.order_begin)."""
    return any(c.document.kind == "welcome" for c in campaigns_active())


def order_campaigns_choose(
    *, order: Order, member: Member, lines: Iterable[LineFacts], known: Known, today: dt.date
) -> list[Applied]:
    """Every active campaign of an order kind that targets the member and whose
    conditions the order meets, stacked (campaigns.rules.stack) and paid by its
    budget (taken here, in the order's transaction). Returns what applies, by
    priority: the order writes each as a ledger entry of its own
    (`order_campaign_credits`) and a row of OrderCampaign."""
    cached = [c for c in campaigns_active() if c.document.kind in ORDER_KINDS]
    if not cached:
        return []
    ids = {c.document.code: c.id for c in cached}
    documents = [c.document for c in cached]
    first_order = known.first_order
    if first_order is None and any(d.kind == "welcome" for d in documents):
        first_order = not Order.objects.filter(member=member).exclude(pk=order.pk).exists()
    facts = OrderFacts(
        placed_at=order.placed_at,
        net_minor=order.total_minor,
        lines=tuple(lines),
        first_order=bool(first_order),
    )
    who = _member_facts(member, known=known, documents=documents, today=today)
    offers = order_offers(documents, order=facts, member=who, programme=programme())

    def affordable(offer: Offer) -> bool:
        return campaign_budget_take(
            campaign_id=ids[offer.document.code],
            document=offer.document,
            member_id=member.pk,
            points=offer.points,
        )

    return [
        Applied(
            campaign_id=ids[o.document.code],
            code=o.document.code,
            points=o.points,
            variant=o.variant or "",
        )
        for o in stack(offers, affordable=affordable)
    ]


def order_campaign_credits(order: Order, applied: list[Applied]) -> list[Credit]:
    """The ledger entry of each campaign applied to `order` (source `campaign`,
    ref `<code>/<order pk>`), as a refund finds it to take its share back."""
    return [
        Credit(
            points=a.points,
            source=Source(Entry.Source.CAMPAIGN, f"{a.code}/{order.pk}"),
            key=f"order:{order.shop.ledger_ref(order.order_id)}#{a.code}",
            reason=a.code,
        )
        for a in applied
    ]


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
