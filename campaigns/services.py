"""What orders, refunds and actions earn: the rules that combine the layers below
(members' facts, the points ledger) live here, at the top, so tiers and
campaigns can add to an order's points without an import cycle.

Each write is idempotent by the shop's id (order_id, refund_id, event_id): the
same id with the same request answers as the first time; with another request
it is a conflict (409), and nothing is written.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import F, Sum
from django.utils import timezone

from batch.services import program_midnight, program_today, program_zone
from members.models import Member
from points.errors import MemberInactive
from points.ledger_sql import together
from points.models import Entry
from points.services import Credit, Source, lock_account, points_earn, points_earn_together
from rewards.services.coupons import coupon_uses_release_for_order, coupons_consume_for_order
from shop.errors import Conflict, DomainError, Invalid, NotFound
from shop.models import ApiKey, Order, Refund, RefundLine, Shop, ShopifyShop
from shop.money import MAX_MINOR_UNITS, currency_exponent
from tiers.services import EarnRate, PlanLine, lock_state, plans_refund, tier_order_apply

from .enrolment import member_join
from .metrics import orders_count
from .models import Event, OrderPoints
from .order_sql import OrderMember, lock_member, order_begin, order_finish
from .orders import (
    Known,
    order_campaign_credits,
    order_campaigns_choose,
    order_refund_reverse,
    refund_entries,
    welcome_running,
)
from .rules import LineFacts

FUTURE_TOLERANCE = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class LineInput:
    sku: str
    category: str
    quantity: int
    amount_minor: int


@dataclass(frozen=True)
class CustomerInput:
    external_id: str | None = None
    email: str | None = None
    email_verified: bool = False


@dataclass(frozen=True)
class OrderInput:
    order_id: str
    placed_at: dt.datetime
    currency: str
    total_minor: int
    lines: list[LineInput] = field(default_factory=list)
    shipping_minor: int = 0
    member_number: str | None = None
    customer: CustomerInput | None = None
    coupons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class OrderResult:
    order_id: str
    member: str
    points: int
    pending_until: dt.date | None
    rules: list[str]


@dataclass(frozen=True)
class RefundResult:
    refund_id: str
    order_id: str
    points_reversed: int


@dataclass(frozen=True)
class EventResult:
    event_id: str
    points: int
    reason: str


@dataclass(frozen=True)
class Earning:
    points: int
    rules: list[str]


class RefundExceedsOrder(DomainError):
    code = "refund_exceeds_order"


class UnsupportedCurrency(DomainError):
    code = "unsupported_currency"


class EventTooOld(DomainError):
    code = "event_too_old"


def _conflict(what: str) -> Conflict:
    return Conflict(f"{what} was already reported with other data.")


def _member_number(data: OrderInput) -> str:
    """The number of the member the order names, or of the customer it names
    (found, or enrolled now)."""
    if data.member_number:
        return data.member_number
    if data.customer and (data.customer.external_id or data.customer.email):
        member, _created = member_join(
            external_id=data.customer.external_id,
            email=data.customer.email,
            email_verified=data.customer.email_verified,
        )
        return member.number
    raise Invalid(
        "Name the member: `member` (a member number) or `customer` (external_id, email).",
        fields={"member": "Required when there is no customer."},
    )


def _lock_new_member(cursor: CursorWrapper, number: str) -> OrderMember:
    """The member numbered `number`, whose tier state and balance row the order
    found none of: created, then locked as an order locks them."""
    member_id = Member.objects.filter(number=number).values_list("pk", flat=True).first()
    if member_id is None:
        raise NotFound(f"No member has the number {number[:20]!r}.")
    lock_state(member_id=member_id)
    lock_account(member_id=member_id)
    if (locked := lock_member(cursor, number)) is None:
        raise RuntimeError(f"member {member_id} has no tier state or balance row")
    return locked


def _check_transacting(member: Member) -> None:
    if member.status in (Member.Status.FROZEN, Member.Status.CLOSED):
        raise MemberInactive(f"Member {member.number} is {member.status}.")


def _check_order(data: OrderInput) -> None:
    if data.currency != settings.PROGRAM_CURRENCY:
        raise UnsupportedCurrency(
            f"The programme runs in {settings.PROGRAM_CURRENCY}; this order is in {data.currency}.",
            fields={"currency": f"Must be {settings.PROGRAM_CURRENCY}."},
        )
    if data.placed_at > timezone.now() + FUTURE_TOLERANCE:
        raise Invalid(
            "An order cannot be placed in the future.", fields={"placed_at": "In the future."}
        )
    if sum(line.amount_minor for line in data.lines) + data.shipping_minor > data.total_minor:
        raise Invalid(
            "The lines and shipping add up to more than the order's total.",
            fields={"total": "Less than the lines and shipping."},
        )


def _line_facts(lines: list[LineInput]) -> list[LineFacts]:
    return [
        LineFacts(sku=ln.sku, category=ln.category, amount_minor=ln.amount_minor) for ln in lines
    ]


def _plan_lines(lines: list[LineInput]) -> list[PlanLine]:
    return [PlanLine(sku=line.sku, quantity=line.quantity) for line in lines]


def _net_minor(data: OrderInput) -> int:
    """What points are earned on: the lines after discounts, or the total less
    shipping when the shop sends no lines."""
    if data.lines:
        return sum(line.amount_minor for line in data.lines)
    return data.total_minor - data.shipping_minor


def order_earning(*, order: Order, rate: EarnRate) -> Earning:
    """The points an order earns: the base rate on its net amount in whole
    currency units, times the member's rate (tier and paid plan), rounded down."""
    units = order.total_minor // 10 ** currency_exponent(order.currency)
    base = units * settings.POINTS_PER_CURRENCY_UNIT
    return Earning(points=int(base * rate.multiplier), rules=["base", *rate.rules])


def _order_result(
    order: Order, pending_until: dt.datetime | None, earning: Earning | OrderPoints
) -> OrderResult:
    return OrderResult(
        order_id=order.order_id,
        member=order.member.number,
        points=earning.points,
        pending_until=pending_until.astimezone(program_zone()).date() if pending_until else None,
        rules=list(earning.rules),
    )


def _order_replay(shop: Shop, order_id: str, fingerprint: str) -> OrderResult | None:
    order = (
        Order.objects.select_related("member", "earning")
        .filter(shop=shop, order_id=order_id)
        .first()
    )
    if order is None:
        return None
    if order.fingerprint != fingerprint:
        raise _conflict(f"Order {order_id}")
    return _order_result(order, order.earning.pending_until, order.earning)


class _OrderTaken(Exception):
    """The order's id is taken: the order was reported before."""


def order_record(
    *,
    shop: Shop,
    data: OrderInput,
    fingerprint: str,
    api_key: ApiKey | None = None,
    shopify_shop: ShopifyShop | None = None,
) -> tuple[OrderResult, bool]:
    """Record a paid order of `shop` and credit its points, pending for the return
    window.
    Returns (result, created): a retry gets the first result and False.

    The hot path of the shop's API, in plain SQL (campaigns/order_sql.py lists
    its statements and says why). Whatever stops an order (its id taken, an
    unknown or frozen member, an invalid order) is checked against an order
    already recorded with its id: a retry is answered as the first time, with
    the same request, never refused; another request is a conflict."""
    try:
        _check_order(data)
        number = _member_number(data)
        today = program_today()
        order = Order(
            shop=shop,
            order_id=data.order_id,
            placed_at=data.placed_at,
            currency=data.currency,
            total_minor=_net_minor(data),
            shipping_minor=data.shipping_minor,
            api_key=api_key,
            shopify_shop=shopify_shop,
            fingerprint=fingerprint,
        )
        lines = [(ln.sku, ln.category, ln.quantity, ln.amount_minor) for ln in data.lines]
        with transaction.atomic(), connection.cursor() as cursor:
            # 1. in one round trip: the member, their tier state and balance row
            # locked; the order (nothing when its id is taken) and its lines; the
            # member's standing; whether they ordered before, if a campaign asks
            begun = order_begin(
                cursor,
                number=number,
                order=order,
                lines=lines,
                today=today,
                ask_ordered_before=welcome_running(),
            )
            locked = begun.locked or _lock_new_member(cursor, number)
            member = locked.member
            _check_transacting(member)
            if begun.order_pk is None:
                raise _OrderTaken
            order.pk, order.member = begun.order_pk, member
            order._state.adding = False
            # plans bought, spend and an upgrade; the rate the order earns at
            rate = tier_order_apply(
                state=locked.state,
                order=order,
                lines=_plan_lines(data.lines),
                today=today,
                standing=begun.standing if begun.locked else None,  # else read unlocked
            )
            earning = order_earning(order=order, rate=rate)
            if member.status != Member.Status.ACTIVE:
                earning = Earning(points=0, rules=[])
            release = data.placed_at + dt.timedelta(days=settings.RETURN_WINDOW_DAYS)
            pending_until = release if release > timezone.now() else None
            credits = []
            if earning.points:
                ref = shop.ledger_ref(order.order_id)
                credits.append(
                    Credit(earning.points, Source(Entry.Source.ORDER, ref), f"order:{ref}")
                )
            applied = []
            if member.status == Member.Status.ACTIVE:
                # the campaigns that apply, their budgets taken; from what the
                # order read under its lock (a new member's: read after it)
                applied = order_campaigns_choose(
                    order=order,
                    member=member,
                    lines=_line_facts(data.lines),
                    known=Known(
                        tier=locked.state.tier.code,
                        rate_rules=rate.rules,
                        spend_minor=begun.standing.spend_minor if begun.locked else None,
                        first_order=begun.first_order,
                    ),
                    today=today,
                )
                credits += order_campaign_credits(order, applied)
                earning = Earning(
                    points=earning.points + sum(a.points for a in applied),
                    rules=[*earning.rules, *(a.code for a in applied)],
                )
            if not earning.points:
                pending_until = None
            # what it earned (the answer a retry gets) and the campaigns applied
            finish = order_finish(
                order.pk,
                earning.points,
                pending_until,
                earning.rules,
                [(a.campaign_id, a.points, a.variant) for a in applied],
            )
            if credits:  # 2. the entries, the balance and lots, and `finish`
                points_earn_together(
                    member=member,
                    credits=credits,
                    locked=locked.balance,
                    available_from=pending_until,
                    effective_at=data.placed_at,
                    also=finish,
                    fresh=True,  # the keys name the order inserted in 1
                )
            else:  # 2. `finish` alone
                together(cursor, finish)
            if data.coupons:
                coupons_consume_for_order(
                    shop=shop,
                    codes=data.coupons,
                    order_id=order.order_id,
                    member=member,
                    total_minor=data.total_minor,
                )
            orders_count()
    except (DomainError, _OrderTaken, IntegrityError):
        if (earlier := _order_replay(shop, data.order_id, fingerprint)) is not None:
            return earlier, False
        raise
    return _order_result(order, pending_until, earning), True


def _refund_replay(
    shop: Shop, refund_id: str, order_id: str, fingerprint: str
) -> RefundResult | None:
    refund = Refund.objects.select_related("order").filter(shop=shop, refund_id=refund_id).first()
    if refund is None:
        return None
    if refund.fingerprint != fingerprint or refund.order.order_id != order_id:
        raise _conflict(f"Refund {refund_id}")
    reversed_points = -(
        Entry.objects.filter(
            refund_entries(shop.ledger_ref(refund_id)), member_id=refund.order.member_id
        ).aggregate(total=Sum(F("amount") + F("pending_change")))["total"]
        or 0
    )
    return RefundResult(refund_id=refund_id, order_id=order_id, points_reversed=reversed_points)


def refund_record(
    *,
    shop: Shop,
    order_id: str,
    refund_id: str,
    amount_minor: int,
    lines: list[LineInput],
    fingerprint: str,
    cap_to_order: bool = False,
    api_key: ApiKey | None = None,
    shopify_shop: ShopifyShop | None = None,
) -> tuple[RefundResult, bool]:
    """Record a refund and take back the points it undoes: the order's points in
    the proportion of the money refunded so far, so that refunds adding up to the
    order's total take back exactly what it earned. Only `shop`'s own orders are
    found. More than is left to refund is refused, unless `cap_to_order`: the amount
    may include money the order earned nothing on (shipping, tax), and only what is
    left of the order's net is taken."""
    if (earlier := _refund_replay(shop, refund_id, order_id, fingerprint)) is not None:
        return earlier, False
    try:
        with transaction.atomic():
            order = (
                Order.objects.select_for_update(of=("self",))
                .select_related("member", "shop")
                .filter(shop=shop, order_id=order_id)
                .first()
            )
            if order is None:
                raise NotFound(f"No order has the id {order_id[:100]!r}.")
            refunded = order.refunded_minor
            if cap_to_order:
                amount_minor = min(amount_minor, order.total_minor - refunded)
            if refunded + amount_minor > order.total_minor:
                raise RefundExceedsOrder(
                    f"Order {order_id} has {order.total_minor - refunded} minor units left "
                    "to refund.",
                    fields={"amount": "More than what is left to refund."},
                )
            Order.objects.filter(pk=order.pk).update(
                refunded_minor=F("refunded_minor") + amount_minor
            )
            refund = Refund.objects.create(
                shop=shop,
                refund_id=refund_id,
                order=order,
                amount_minor=amount_minor,
                api_key=api_key,
                shopify_shop=shopify_shop,
                fingerprint=fingerprint,
            )
            RefundLine.objects.bulk_create(
                RefundLine(
                    refund=refund,
                    sku=line.sku,
                    quantity=line.quantity,
                    amount_minor=line.amount_minor,
                )
                for line in lines
            )
            fully_refunded = refunded + amount_minor == order.total_minor
            if fully_refunded:
                coupon_uses_release_for_order(shop=shop, order_id=order_id)
            plans_refund(order=order, lines=None if fully_refunded else _plan_lines(lines))
            points = order_refund_reverse(
                order=order,
                refund_id=shop.ledger_ref(refund_id),
                refunded_before=refunded,
                amount_minor=amount_minor,
            )
    except IntegrityError:
        if (earlier := _refund_replay(shop, refund_id, order_id, fingerprint)) is not None:
            return earlier, False
        raise
    return RefundResult(refund_id=refund_id, order_id=order_id, points_reversed=points), True


def cancel_refund_id(order_id: str) -> str:
    """The refund a cancellation records (Shopify's order ids are numbers: no
    refund of theirs has this form)."""
    return f"cancel-{order_id}"


def order_cancel(
    *, shop: Shop, order_id: str, shopify_shop: ShopifyShop | None = None
) -> tuple[RefundResult, bool]:
    """A cancelled order gives back all it earned: what its refunds have not taken
    back yet is, as a refund of the rest. Cancelling again changes nothing."""
    refund_id = cancel_refund_id(order_id)
    return refund_record(
        shop=shop,
        order_id=order_id,
        refund_id=refund_id,
        amount_minor=MAX_MINOR_UNITS,
        cap_to_order=True,
        lines=[],
        fingerprint=refund_id,
        shopify_shop=shopify_shop,
    )


def _event_replay(shop: Shop, event_id: str, fingerprint: str) -> EventResult | None:
    event = Event.objects.filter(shop=shop, event_id=event_id).first()
    if event is None:
        return None
    if event.fingerprint != fingerprint:
        raise _conflict(f"Event {event_id}")
    return EventResult(event_id=event_id, points=event.points, reason=event.reason)


def event_record(
    *,
    shop: Shop,
    member: Member,
    event_id: str,
    type: str,
    occurred_at: dt.datetime,
    fingerprint: str,
    api_key: ApiKey | None = None,
) -> tuple[EventResult, bool]:
    """Record an action and credit its points, up to the member's daily cap for
    that kind of action, counted by the programme's day the event is received;
    past the cap it is recorded and earns 0, saying why. Events that happened more
    than EVENT_MAX_AGE_DAYS ago are refused (a retry of one accepted earlier gets
    its first answer)."""
    rule = settings.EVENT_RULES.get(type)
    if rule is None:
        raise Invalid(
            f"Unknown event type {type[:30]!r}.",
            fields={"type": f"One of: {', '.join(sorted(settings.EVENT_RULES))}."},
        )
    now = timezone.now()
    if occurred_at > now + FUTURE_TOLERANCE:
        raise Invalid(
            "An event cannot happen in the future.", fields={"occurred_at": "In the future."}
        )
    if (earlier := _event_replay(shop, event_id, fingerprint)) is not None:
        return earlier, False
    max_age = settings.EVENT_MAX_AGE_DAYS
    if occurred_at < now - dt.timedelta(days=max_age):
        raise EventTooOld(
            f"Events are accepted up to {max_age} days after they happened.",
            fields={"occurred_at": f"More than {max_age} days ago."},
        )
    _check_transacting(member)
    # The cap counts the events received on the programme's day, whatever day the
    # shop says they happened: a caller cannot earn again by dating them earlier.
    day_start = program_midnight(program_today())
    try:
        with transaction.atomic():
            lock_account(member_id=member.pk)
            earned_today = Event.objects.filter(
                member=member,
                type=type,
                points__gt=0,
                created_at__gte=day_start,
                created_at__lt=day_start + dt.timedelta(days=1),
            ).count()
            points, reason = rule["points"], ""
            if member.status != Member.Status.ACTIVE:
                points, reason = 0, "member_restricted"
            elif earned_today >= rule["daily_cap"]:
                points, reason = 0, "daily_cap"
            Event.objects.create(
                shop=shop,
                event_id=event_id,
                member=member,
                type=type,
                occurred_at=occurred_at,
                points=points,
                reason=reason,
                fingerprint=fingerprint,
                api_key=api_key,
            )
            if points:
                points_earn(
                    member=member,
                    points=points,
                    source=Source(Entry.Source.EVENT, shop.ledger_ref(event_id)),
                    key=f"event:{shop.ledger_ref(event_id)}",
                    effective_at=occurred_at,
                    reason=type,
                )
    except IntegrityError:
        if (earlier := _event_replay(shop, event_id, fingerprint)) is not None:
            return earlier, False
        raise
    return EventResult(event_id=event_id, points=points, reason=reason), True
