"""What a campaign gives, as pure functions of facts: no database, no clock.

One small evaluator per kind that applies to orders, from (the order's facts,
the campaign's document) to points; targeting and A/B variants from the
member's facts; and the stacking of several campaigns on one order. The order
path, the admin's preview and the tests call the same functions.

A multiplier (and a member day) adds `multiplier - 1` times the base points of
the lines it matches (base: POINTS_PER_CURRENCY_UNIT per whole currency unit,
before the tier's multiplier), so "x2" doubles the base points and stacks with
the tier's rate instead of multiplying it.
"""

import datetime as dt
import hashlib
import zoneinfo
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from .documents import (
    AB,
    Common,
    Document,
    MemberDay,
    Multiplier,
    OrderBonus,
    OrderConditions,
    Welcome,
)


@dataclass(frozen=True)
class LineFacts:
    sku: str
    category: str
    amount_minor: int


@dataclass(frozen=True)
class OrderFacts:
    placed_at: dt.datetime
    net_minor: int
    lines: tuple[LineFacts, ...] = ()
    first_order: bool = False


@dataclass(frozen=True)
class MemberFacts:
    number: str
    tier: str = ""
    lifecycle: str | None = None
    paid_plan: str | None = None
    near_next_tier: bool = False
    tags: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Programme:
    """The programme's settings the evaluators need, passed in so they stay pure."""

    zone: zoneinfo.ZoneInfo
    minor_per_unit: int
    points_per_unit: int


def in_window(campaign: Common, at: dt.datetime) -> bool:
    """Whether `at` falls in the campaign's window: from `starts_at`, up to but
    not including `ends_at`."""
    if campaign.starts_at is not None and at < campaign.starts_at:
        return False
    return campaign.ends_at is None or at < campaign.ends_at


def variant_of(ab: AB, *, salt: str, member_number: str) -> str:
    """The member's variant: a stable hash of the salt and the member number,
    spread over the variants by weight (in the order of their names)."""
    digest = hashlib.sha256(f"{salt}:{member_number}".encode()).digest()
    slot = int.from_bytes(digest[:8], "big") % sum(ab.variants.values())
    for name in sorted(ab.variants):
        slot -= ab.variants[name]
        if slot < 0:
            return name
    raise AssertionError("unreachable: the weights add up to more than the slot")


def campaign_variant(campaign: Common, member_number: str) -> str | None:
    if campaign.ab is None:
        return None
    return variant_of(
        campaign.ab, salt=campaign.ab.salt or campaign.code, member_number=member_number
    )


def targeted(campaign: Common, member: MemberFacts) -> bool:
    """Whether the campaign is aimed at the member (its A/B control included)."""
    target = campaign.target
    if target.tiers and member.tier not in target.tiers:
        return False
    if target.segments and member.lifecycle not in target.segments:
        return False
    if target.paid_plan is not None and member.paid_plan != target.paid_plan:
        return False
    if target.tags and member.tags.isdisjoint(target.tags):
        return False
    return not target.sprint or member.near_next_tier


def in_control(campaign: Common, member: MemberFacts) -> bool:
    """The control variant of an A/B campaign earns nothing from it."""
    variant = campaign_variant(campaign, member.number)
    return variant is not None and campaign.ab is not None and variant == campaign.ab.control


def _matching_minor(conditions: OrderConditions, order: OrderFacts) -> int:
    """The amount of the lines the campaign's categories and SKUs pick (all of
    them when it names none; the order's net when the shop sent no lines)."""
    if not conditions.categories and not conditions.skus:
        return order.net_minor
    return sum(
        line.amount_minor
        for line in order.lines
        if line.category in conditions.categories or line.sku in conditions.skus
    )


def order_matches(conditions: OrderConditions, order: OrderFacts, programme: Programme) -> bool:
    """The conditions every order kind shares: weekday and day of the month in
    the programme's time zone, the minimum net total, and at least one line of
    the categories or SKUs named."""
    local = order.placed_at.astimezone(programme.zone)
    if conditions.weekdays and local.isoweekday() not in conditions.weekdays:
        return False
    if conditions.days_of_month and local.day not in conditions.days_of_month:
        return False
    minimum = conditions.min_total_minor
    if minimum is not None and order.net_minor < minimum:
        return False
    return _matching_minor(conditions, order) > 0


def multiplier_points(
    campaign: Multiplier | MemberDay, order: OrderFacts, programme: Programme
) -> int:
    """A multiplier, or a member day (a multiplier on `days_of_month`): the extra
    base points of the matching lines."""
    if not order_matches(campaign.conditions, order, programme):
        return 0
    matching = _matching_minor(campaign.conditions, order)
    units = matching // programme.minor_per_unit
    return int(units * programme.points_per_unit * (campaign.reward.multiplier - 1))


def order_bonus_points(campaign: OrderBonus, order: OrderFacts, programme: Programme) -> int:
    return campaign.reward.points if order_matches(campaign.conditions, order, programme) else 0


def welcome_points(campaign: Welcome, order: OrderFacts, programme: Programme) -> int:
    if not order.first_order or not order_matches(campaign.conditions, order, programme):
        return 0
    return campaign.reward.points


Evaluator = Callable[..., int]
ORDER_EVALUATORS: dict[str, Evaluator] = {
    "multiplier": multiplier_points,
    "member_day": multiplier_points,
    "order_bonus": order_bonus_points,
    "welcome": welcome_points,
}


@dataclass(frozen=True)
class Offer:
    """A campaign that would add `points` to an order, with the member's variant."""

    document: Document
    points: int
    variant: str | None


def offer_for(
    campaign: Document, *, order: OrderFacts, member: MemberFacts, programme: Programme
) -> tuple[Offer | None, str]:
    """What one campaign adds to an order, or None and why not: `not_for_orders`,
    `inactive`, `outside_window`, `not_targeted`, `control` or `no_match`."""
    evaluator = ORDER_EVALUATORS.get(campaign.kind)
    if evaluator is None:
        return None, "not_for_orders"
    if not campaign.active:
        return None, "inactive"
    if not in_window(campaign, order.placed_at):
        return None, "outside_window"
    if not targeted(campaign, member):
        return None, "not_targeted"
    if in_control(campaign, member):
        return None, "control"
    points = evaluator(campaign, order, programme)
    if points <= 0:
        return None, "no_match"
    variant = campaign_variant(campaign, member.number)
    return Offer(document=campaign, points=points, variant=variant), ""


def order_offers(
    campaigns: Iterable[Document],
    *,
    order: OrderFacts,
    member: MemberFacts,
    programme: Programme,
) -> list[Offer]:
    """Every campaign that would add points to the order (active, in its window
    at the order's time, aimed at the member, out of its control variant, its
    conditions met): best first (then by priority, then code)."""
    offers = []
    for campaign in campaigns:
        offer, _reason = offer_for(campaign, order=order, member=member, programme=programme)
        if offer is not None:
            offers.append(offer)
    offers.sort(key=lambda offer: (-offer.points, -offer.document.priority, offer.document.code))
    return offers


def stack(offers: Sequence[Offer], *, affordable: Callable[[Offer], bool]) -> list[Offer]:
    """The offers an order gets: every stackable one, and of the others only the
    best (most points; by priority, then code, on a tie). An offer its budget
    cannot pay (`affordable` false) is skipped, and the next best non-stackable
    one is tried. Returned by priority, highest first, then by code."""
    applied, best_taken = [], False
    for offer in offers:
        if not offer.document.stackable and best_taken:
            continue
        if not affordable(offer):
            continue
        applied.append(offer)
        best_taken = best_taken or not offer.document.stackable
    applied.sort(key=lambda offer: (-offer.document.priority, offer.document.code))
    return applied
