"""Reads of tiers: qualifying spend, the tier it earns, a member's tier status,
and the tiers and plans themselves, kept per process (`tier_rules`)."""

import datetime as dt
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from batch.services import program_midnight, program_today
from members.models import Member
from points.ledger_sql import Statement, together
from shop.models import Order

from .models import MemberTier, PaidPlan, Subscription, Tier, TierChange

# How long a process keeps the tiers and plans it read: a change in the admin is
# felt at once in the process that made it and within this many seconds in the
# others (every order reads them; they change a few times a year).
RULES_CACHE_SECONDS = 5.0

ORDER = Order._meta.db_table
SUBSCRIPTION = Subscription._meta.db_table
MEMBER = Member._meta.db_table
# Plain SQL: every order reads it (campaigns/order_sql.py says why the order path
# is plain SQL). Spend is net of refunds; an order wholly refunded does not count.
# {member} is the member's id: a parameter, or a subquery finding it by number.
_STANDING = """
    SELECT COALESCE(SUM(o.total_minor - o.refunded_minor), 0),
        COUNT(CASE WHEN o.total_minor > o.refunded_minor THEN 1 END),
        (SELECT s.plan_id FROM {subscription} s
         WHERE s.member_id = {member} AND s.status = %(active)s
             AND s.starts_at <= %(at)s AND s.ends_at > %(at)s)
    FROM {order} o
    WHERE o.member_id = {member} AND o.placed_at >= %(start)s AND o.placed_at < %(end)s
"""
_STANDING_BY_ID = _STANDING.format(subscription=SUBSCRIPTION, order=ORDER, member="%(member)s")
_STANDING_BY_NUMBER = _STANDING.format(
    subscription=SUBSCRIPTION,
    order=ORDER,
    member=f"(SELECT m.id FROM {MEMBER} m WHERE m.number = %(member)s)",  # noqa: S608
)


@dataclass(frozen=True)
class TierRules:
    """The tiers by rank and every paid plan, as read at `read_at` (monotonic)."""

    tiers: list[Tier]
    plans: dict[int, PaidPlan]
    read_at: float
    tiers_by_id: dict[int, Tier] = field(init=False)
    plans_on_sale: dict[str, PaidPlan] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tiers_by_id", {tier.pk: tier for tier in self.tiers})
        on_sale = {plan.sku: plan for plan in self.plans.values() if plan.is_active}
        object.__setattr__(self, "plans_on_sale", on_sale)


_rules: TierRules | None = None


def tier_rules(*, fresh: bool = False) -> TierRules:
    """The tiers and plans, read at most every RULES_CACHE_SECONDS by this process
    (`fresh`: now), and at once after `tier_rules_forget`."""
    global _rules
    rules = _rules
    now = time.monotonic()
    if fresh or rules is None or now - rules.read_at >= RULES_CACHE_SECONDS:
        plans = {plan.pk: plan for plan in PaidPlan.objects.all()}
        rules = _rules = TierRules(list(Tier.objects.order_by("rank")), plans, now)
    return rules


def tier_cached(*, tier_id: int) -> Tier:
    """The tier `tier_id`, from this process's tiers (read again if it is newer)."""
    return tier_rules().tiers_by_id.get(tier_id) or tier_rules(fresh=True).tiers_by_id[tier_id]


def plan_cached(*, plan_id: int) -> PaidPlan:
    """The paid plan `plan_id`, from this process's plans (read again if it is newer)."""
    return tier_rules().plans.get(plan_id) or tier_rules(fresh=True).plans[plan_id]


def tier_rules_forget(**_signal: object) -> None:
    """Drop this process's tiers and plans (a tier or plan was saved or deleted)."""
    global _rules
    _rules = None


def qualifying_window(*, last_day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The instants bounding the TIER_WINDOW_DAYS programme days that end with
    `last_day`: orders placed in [start, end) count."""
    first_day = last_day - dt.timedelta(days=settings.TIER_WINDOW_DAYS - 1)
    return program_midnight(first_day), program_midnight(last_day + dt.timedelta(days=1))


@dataclass(frozen=True)
class Standing:
    spend_minor: int
    orders: int
    plan: PaidPlan | None  # running at the moment asked about


def standing_statement(
    *, last_day: dt.date, at: dt.datetime, member_id: int | None = None, number: str = ""
) -> Statement:
    """The statement `member_standing` runs, for the member `member_id` or the
    member numbered `number`: for the order path to send with its others
    (`standing_from` reads its row)."""
    start, end = qualifying_window(last_day=last_day)
    adapt = connection.ops.adapt_datetimefield_value
    params = {
        "member": member_id if member_id is not None else number,
        "active": Subscription.Status.ACTIVE.value,
        "at": adapt(at),
        "start": adapt(start),
        "end": adapt(end),
    }
    return (_STANDING_BY_ID if member_id is not None else _STANDING_BY_NUMBER), params


def standing_from(rows: list[tuple[Any, ...]]) -> Standing:
    ((spend, orders, plan_id),) = rows
    plan = plan_cached(plan_id=plan_id) if plan_id is not None else None
    return Standing(spend_minor=int(spend), orders=orders, plan=plan)


def member_standing(*, member_id: int, last_day: dt.date, at: dt.datetime) -> Standing:
    """Qualifying spend (net of refunds, in minor units) and the number of orders
    not wholly refunded, over the window ending on `last_day`, and the paid plan
    running at `at`, in one statement."""
    statement = standing_statement(last_day=last_day, at=at, member_id=member_id)
    with connection.cursor() as cursor:
        (rows,) = together(cursor, [statement])
    return standing_from(rows)


def member_spend(*, member_id: int, last_day: dt.date) -> tuple[int, int]:
    """Qualifying spend and orders over the window ending on `last_day`."""
    standing = member_standing(member_id=member_id, last_day=last_day, at=timezone.now())
    return standing.spend_minor, standing.orders


def tiers_by_rank() -> list[Tier]:
    return tier_rules().tiers


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


def plans_on_sale() -> list[PaidPlan]:
    """The paid plans members can buy now, cheapest first (this process's copy)."""
    plans = [plan for plan in tier_rules().plans.values() if plan.is_active]
    return sorted(plans, key=lambda plan: (plan.price_minor, plan.pk))


def tier_export(*, member: Member) -> dict[str, object]:
    """The member's tier, its changes and their paid plans, for their data export."""
    status = tier_status(member=member)
    changes = TierChange.objects.filter(member=member).select_related("from_tier", "to_tier")
    subscriptions = Subscription.objects.filter(member=member).select_related("plan")
    return {
        "tier": status.tier.code,
        "since": status.since.isoformat() if status.since else None,
        "changes": [
            {
                "from": change.from_tier.code if change.from_tier else None,
                "to": change.to_tier.code,
                "reason": change.reason,
                "as_of": change.as_of.isoformat(),
            }
            for change in changes.order_by("id")
        ],
        "plans": [
            {
                "plan": subscription.plan.code,
                "status": subscription.status,
                "starts_at": subscription.starts_at.isoformat(),
                "ends_at": subscription.ends_at.isoformat(),
            }
            for subscription in subscriptions.order_by("id")
        ],
    }
