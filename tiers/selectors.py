"""Reads of tiers: qualifying spend, the tier it earns, a member's tier status."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Case, Count, F, Sum, When
from django.utils import timezone

from batch.services import program_midnight, program_today
from members.models import Member
from shop.models import Order

from .models import MemberTier, Subscription, Tier


def qualifying_window(*, last_day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The instants bounding the TIER_WINDOW_DAYS programme days that end with
    `last_day`: orders placed in [start, end) count."""
    first_day = last_day - dt.timedelta(days=settings.TIER_WINDOW_DAYS - 1)
    return program_midnight(first_day), program_midnight(last_day + dt.timedelta(days=1))


def member_spend(*, member_id: int, last_day: dt.date) -> tuple[int, int]:
    """Qualifying spend (net of refunds, in minor units) and the number of orders
    not wholly refunded, over the window ending on `last_day`."""
    start, end = qualifying_window(last_day=last_day)
    totals = Order.objects.filter(
        member_id=member_id, placed_at__gte=start, placed_at__lt=end
    ).aggregate(
        spend=Sum(F("total_minor") - F("refunded_minor")),
        orders=Count(Case(When(total_minor__gt=F("refunded_minor"), then=1))),
    )
    return totals["spend"] or 0, totals["orders"]


def tiers_by_rank() -> list[Tier]:
    return list(Tier.objects.order_by("rank"))


def qualified_tier(*, spend_minor: int, orders: int) -> Tier:
    """The highest tier whose threshold and minimum orders are met (the lowest
    tier when none is)."""
    tiers = tiers_by_rank()
    met = [t for t in tiers if t.threshold_minor <= spend_minor and t.min_orders <= orders]
    return met[-1] if met else tiers[0]


@dataclass(frozen=True)
class TierStatus:
    tier: Tier
    since: dt.datetime | None
    grace_until: dt.date | None
    override_until: dt.date | None
    window_start: dt.date
    spend_minor: int
    orders: int
    next_tier: Tier | None
    spend_left_minor: int
    orders_left: int
    subscription: Subscription | None
    tiers: list[Tier]

    @property
    def multiplier(self) -> Decimal:
        extra = self.subscription.plan.extra_multiplier if self.subscription else Decimal(0)
        return self.tier.multiplier + extra

    @property
    def progress_percent(self) -> int:
        """How far the member's spend is towards the next tier's threshold."""
        if self.next_tier is None:
            return 100
        if not self.next_tier.threshold_minor:
            return 100 if not self.orders_left else 0
        return min(100, self.spend_minor * 100 // self.next_tier.threshold_minor)


def active_subscription(*, member: Member) -> Subscription | None:
    return (
        Subscription.objects.select_related("plan")
        .filter(
            member=member,
            status=Subscription.Status.ACTIVE,
            starts_at__lte=timezone.now(),
            ends_at__gt=timezone.now(),
        )
        .first()
    )


def tier_status(*, member: Member) -> TierStatus:
    """The member's tier now, their qualifying spend in the window ending today
    and what the next tier still needs."""
    tiers = tiers_by_rank()
    state = MemberTier.objects.select_related("tier").filter(pk=member.pk).first()
    tier = state.tier if state else tiers[0]
    today = program_today()
    spend, orders = member_spend(member_id=member.pk, last_day=today)
    higher = [t for t in tiers if t.rank > tier.rank]
    next_tier = higher[0] if higher else None
    return TierStatus(
        tier=tier,
        since=state.since if state else None,
        grace_until=state.grace_until if state else None,
        override_until=state.override_until if state else None,
        window_start=today - dt.timedelta(days=settings.TIER_WINDOW_DAYS - 1),
        spend_minor=spend,
        orders=orders,
        next_tier=next_tier,
        spend_left_minor=max(0, next_tier.threshold_minor - spend) if next_tier else 0,
        orders_left=max(0, next_tier.min_orders - orders) if next_tier else 0,
        subscription=active_subscription(member=member),
        tiers=tiers,
    )
