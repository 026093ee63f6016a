"""Reads for campaigns: the programme's settings and a member's facts as the
evaluators take them, and the admin's preview of what an order would earn."""

from dataclasses import dataclass

from django.conf import settings

from batch.models import JobRun, Status
from batch.services import program_zone
from members.l10n import in_language
from members.models import Member
from personalisation.selectors import member_tags
from shop.money import currency_exponent
from tiers.selectors import tier_status

from .documents import Document, document_parse
from .models import Campaign, MemberSegment
from .rules import MemberFacts, Offer, OrderFacts, Programme, offer_for, order_offers, stack


def programme() -> Programme:
    return Programme(
        zone=program_zone(),
        minor_per_unit=10 ** currency_exponent(settings.PROGRAM_CURRENCY),
        points_per_unit=settings.POINTS_PER_CURRENCY_UNIT,
    )


def near_next_tier(*, spend_minor: int, next_threshold_minor: int | None) -> bool:
    """Within TIER_NUDGE_PERCENT of the next tier's spend (a "sprint")."""
    if next_threshold_minor is None:
        return False
    return spend_minor * 100 >= next_threshold_minor * (100 - settings.TIER_NUDGE_PERCENT)


def member_facts(*, member: Member) -> MemberFacts:
    """The member as targeting sees them now: tier, lifecycle stage, paid plan,
    whether they are near the next tier, their tags."""
    status = tier_status(member=member)
    segment = MemberSegment.objects.filter(member=member).only("lifecycle").first()
    return MemberFacts(
        number=member.number,
        tier=status.tier.code,
        lifecycle=segment.lifecycle if segment else None,
        paid_plan=status.subscription.plan.code if status.subscription else None,
        near_next_tier=near_next_tier(
            spend_minor=status.spend_minor,
            next_threshold_minor=status.next_tier.threshold_minor if status.next_tier else None,
        ),
        tags=frozenset(member_tags(member=member)),
    )


@dataclass(frozen=True)
class Preview:
    base_points: int
    applied: list[Offer]
    points: int
    reason: str


def order_preview(*, document: Document, order: OrderFacts, member: MemberFacts) -> Preview:
    """What the order would earn from the campaigns as they would be with
    `document` saved: the base points (before the tier), the campaigns applied
    with their points, what `document`'s campaign adds, and why nothing when it
    adds nothing (`beaten` when a better campaign that does not stack wins, or
    `out_of_budget`)."""
    rules = programme()
    others = Campaign.objects.filter(active=True).exclude(code=document.code)
    out_of_budget = {c.code for c in others if c.out_of_budget}
    documents = [document, *(document_parse(c.document) for c in others)]
    offers = order_offers(documents, order=order, member=member, programme=rules)
    applied = stack(offers, affordable=lambda offer: offer.document.code not in out_of_budget)
    own, reason = offer_for(document, order=order, member=member, programme=rules)
    points = next((o.points for o in applied if o.document.code == document.code), 0)
    if own is not None and not points:
        reason = "beaten"
    return Preview(
        base_points=order.net_minor // rules.minor_per_unit * rules.points_per_unit,
        applied=applied,
        points=points,
        reason=reason,
    )


def segment_part(*, member: Member) -> dict | None:
    """The member's segment for the lookup: lifecycle and RFM scores as the
    nightly job last found them (None before its first run). The job writes a
    member's row only when it changes, so it was found as it is on the latest
    night the whole job ran, if that is later than the row's."""
    segment = MemberSegment.objects.filter(member=member).first()
    if segment is None:
        return None
    rfm = None
    if segment.recency is not None:
        rfm = {"r": segment.recency, "f": segment.frequency, "m": segment.monetary}
    latest = (
        JobRun.objects.filter(job="segments", status=Status.SUCCEEDED)
        .order_by("-as_of")
        .values_list("as_of", flat=True)
        .first()
    )
    computed_on = max(segment.computed_on, latest) if latest else segment.computed_on
    return {"lifecycle": segment.lifecycle, "rfm": rfm, "computed_on": computed_on}


def campaign_names(refs: set[str]) -> dict[str, str]:
    """The campaigns with these codes, by code, named in the active language (the
    points history's words for a bonus)."""
    return {
        campaign.code: in_language(campaign, "name")
        for campaign in Campaign.objects.filter(code__in=refs).only(
            "code", "name", "name_zh_hans", "name_zh_hant"
        )
    }
