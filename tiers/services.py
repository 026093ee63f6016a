"""The write path of tiers and paid plans.

A member's tier state (`MemberTier`) is changed under its row lock, with the
history row and the notice that explain the change in the same transaction. In
an order's transaction the state row is locked before the points balance, as
everywhere, so concurrent orders of one member run one after another.

Upgrades happen at once, when an order lifts the member's qualifying spend;
downgrades only in the nightly recalculation (`tiers.jobs`).
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from batch.services import program_today
from members.models import Member, User
from notifications.services import messages_queue
from notifications.webhooks import webhook_events_queue, webhook_listened
from shop.models import Order

from .messages import TIER_CHANGED, UPGRADE, notice_build, tier_changed_payload
from .models import MemberTier, PaidPlan, PlanPurchase, Subscription, Tier, TierChange
from .selectors import Standing, member_standing, qualified_tier, tier_rules, tiers_by_rank


class TierError(ValueError):
    """A request staff or the shop made that the rules refuse."""


@dataclass(frozen=True)
class EarnRate:
    """What an order's base points are multiplied by, and the rules that say so."""

    multiplier: Decimal
    rules: list[str]


@dataclass(frozen=True)
class PlanLine:
    sku: str
    quantity: int


def lock_state(*, member_id: int) -> MemberTier:
    """The member's tier state, locked until the transaction ends (the row alone:
    not the tier it points at, which every member of that tier shares); a member
    who has none starts in the lowest tier."""
    state = (
        MemberTier.objects.select_for_update(of=("self",))
        .select_related("tier")
        .filter(pk=member_id)
    )
    found = state.first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            MemberTier.objects.create(
                member_id=member_id, tier=tiers_by_rank()[0], since=timezone.now()
            )
    except IntegrityError:
        pass  # created by a concurrent transaction: lock that one
    return state.get()


def _record_change(
    state: MemberTier,
    *,
    to: Tier,
    reason: str,
    as_of: dt.date,
    now: dt.datetime,
    note: str = "",
    actor: User | None = None,
    plan: PaidPlan | None = None,
) -> None:
    TierChange.objects.create(
        member_id=state.member_id,
        from_tier_id=state.tier_id,
        to_tier=to,
        reason=reason,
        as_of=as_of,
        plan=plan,
        note=note[:200],
        actor=actor,
        created_at=now,
    )
    if webhook_listened(TIER_CHANGED):
        number = Member.objects.values_list("number", flat=True).get(pk=state.member_id)
        webhook_events_queue(
            event=TIER_CHANGED,
            payloads=[tier_changed_payload(number, state.tier.code, to.code, reason, as_of)],
        )


def _set_tier(state: MemberTier, tier: Tier, *, now: dt.datetime) -> None:
    """Put the member in `tier` from `now`, out of any grace period."""
    if tier.pk != state.tier_id:
        state.tier = tier
        state.since = now
    state.grace_until = None


def _active_subscription(member_id: int) -> Subscription | None:
    """The member's active subscription, locked; its time may be up already when
    tonight's `paid_plans` has not ended it yet."""
    return (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("plan")
        .filter(member_id=member_id, status=Subscription.Status.ACTIVE)
        .first()
    )


def _quantities(lines: Iterable[PlanLine]) -> dict[str, int]:
    """How many of each SKU the lines hold."""
    quantities: dict[str, int] = {}
    for line in lines:
        quantities[line.sku] = quantities.get(line.sku, 0) + line.quantity
    return quantities


def _plans_buy(
    state: MemberTier, *, order: Order, lines: Iterable[PlanLine], now: dt.datetime, today: dt.date
) -> None:
    """Each line whose SKU is a plan's starts the plan, or extends the running one
    by its duration (times the quantity). Buying another plan than the running one
    ends the running one; a plan whose time is up ends before a new one starts."""
    quantities = _quantities(lines)
    for plan in PaidPlan.objects.filter(sku__in=quantities, is_active=True).order_by("pk"):
        days = plan.duration_days * quantities[plan.sku]
        running = _active_subscription(state.member_id)
        if running is not None and running.plan_id == plan.pk and running.ends_at > order.placed_at:
            running.ends_at += dt.timedelta(days=days)
            running.save(update_fields=["ends_at"])
            subscription, reason = running, TierChange.Reason.PLAN_EXTENDED
        else:
            if running is not None:
                _plan_end(state, running, status=Subscription.Status.ENDED, now=now, today=today)
            subscription = Subscription.objects.create(
                member_id=state.member_id,
                plan=plan,
                starts_at=order.placed_at,
                ends_at=order.placed_at + dt.timedelta(days=days),
            )
            reason = TierChange.Reason.PLAN_STARTED
        PlanPurchase.objects.create(subscription=subscription, order=order, days=days)
        _record_change(
            state,
            to=state.tier,
            reason=reason,
            as_of=today,
            now=now,
            plan=plan,
            note=f"order {order.order_id}",
        )


def _plan_end(
    state: MemberTier,
    subscription: Subscription,
    *,
    status: str,
    now: dt.datetime,
    today: dt.date,
    note: str = "",
) -> None:
    subscription.status = status
    subscription.ended_at = now
    subscription.save(update_fields=["status", "ended_at"])
    _record_change(
        state,
        to=state.tier,
        reason=TierChange.Reason.PLAN_ENDED,
        as_of=today,
        now=now,
        plan=subscription.plan,
        note=note,
    )


def earn_rate(*, tier: Tier, plan: PaidPlan | None) -> EarnRate:
    """The tier's multiplier plus the running paid plan's extra."""
    multiplier, rules = tier.multiplier, []
    if tier.multiplier != 1:
        rules.append(f"tier:{tier.code}")
    if plan is not None and plan.extra_multiplier:
        multiplier += plan.extra_multiplier
        rules.append(f"plan:{plan.code}")
    return EarnRate(multiplier=multiplier, rules=rules)


def tier_order_apply(
    *,
    state: MemberTier,
    order: Order,
    lines: Iterable[PlanLine],
    today: dt.date,
    standing: Standing | None = None,
) -> EarnRate:
    """Inside the transaction that records `order`, with the member's tier state
    `state` locked: start or extend the paid plans its lines buy, move the member
    up at once if their qualifying spend (this order included) reaches a higher
    tier, clear a grace period they have earned back, and return the rate the
    order earns at. `standing`: the member's, for the window ending `today`, as
    the caller read it under the lock, with the order (read here if not given,
    and again when the order buys a plan)."""
    now = timezone.now()
    if any(line.sku in tier_rules().plans_on_sale for line in lines):
        _plans_buy(state, order=order, lines=lines, now=now, today=today)
        standing = None
    if standing is None:
        standing = member_standing(member_id=state.member_id, last_day=today, at=order.placed_at)
    target = qualified_tier(spend_minor=standing.spend_minor, orders=standing.orders)
    if target.rank > state.tier.rank:
        _record_change(
            state,
            to=target,
            reason=TierChange.Reason.UPGRADE,
            as_of=today,
            now=now,
            note=f"order {order.order_id}",
        )
        _set_tier(state, target, now=now)
        messages_queue(
            messages=[
                notice_build(
                    member_id=state.member_id, kind=UPGRADE, as_of=today, tier_id=target.pk
                )
            ]
        )
        state.save(update_fields=["tier", "since", "grace_until"])
    elif target.rank == state.tier.rank and state.grace_until is not None:
        state.grace_until = None
        state.save(update_fields=["grace_until"])
    return earn_rate(tier=state.tier, plan=standing.plan)


def plans_refund(*, order: Order, lines: Iterable[PlanLine] | None) -> None:
    """A refund of plan lines of `order` (None: the whole order) takes back the
    time those lines bought; a plan left with no time ends."""
    quantities = None if lines is None else _quantities(lines)
    now, today = timezone.now(), program_today()
    purchases = PlanPurchase.objects.filter(order=order, refunded_at__isnull=True)
    if not purchases.exists():
        return
    state = lock_state(member_id=order.member_id)  # before the plan rows, as orders do
    for purchase in (
        purchases.select_for_update(of=("self",))
        .select_related("subscription__plan")
        .order_by("pk")
    ):
        plan = purchase.subscription.plan
        if quantities is None:
            days = purchase.days
        else:
            days = min(purchase.days, plan.duration_days * quantities.get(plan.sku, 0))
        if not days:
            continue
        purchase.days -= days
        if not purchase.days:
            purchase.refunded_at = now
        purchase.save(update_fields=["refunded_at", "days"])
        subscription = Subscription.objects.select_for_update().get(pk=purchase.subscription_id)
        if subscription.status != Subscription.Status.ACTIVE:
            continue
        subscription.ends_at -= dt.timedelta(days=days)
        subscription.save(update_fields=["ends_at"])
        if subscription.ends_at <= now:
            _plan_end(
                state,
                subscription,
                status=Subscription.Status.CANCELLED,
                now=now,
                today=today,
                note=f"refund of order {order.order_id}",
            )


def tier_override(
    *, member: Member, tier: Tier, until: dt.date, reason: str, actor: User
) -> MemberTier:
    """Staff put the member in `tier` now and keep them at least there until
    `until` (inclusive): the nightly job neither lowers them below it nor starts a
    grace period for it meanwhile; spend can still lift them higher."""
    reason = reason.strip()
    if not reason:
        raise TierError("An override needs a reason.")
    today = program_today()
    if until < today:
        raise TierError("An override cannot end in the past.")
    now = timezone.now()
    with transaction.atomic():
        state = lock_state(member_id=member.pk)
        _record_change(
            state,
            to=tier,
            reason=TierChange.Reason.OVERRIDE,
            as_of=today,
            now=now,
            note=f"until {until.isoformat()}: {reason}",
            actor=actor,
        )
        _set_tier(state, tier, now=now)
        state.override_tier = tier
        state.override_until = until
        state.override_reason = reason[:200]
        state.save()
    return state
