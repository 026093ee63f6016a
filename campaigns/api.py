"""The shop API's order, refund and event endpoints, and the member lookup that
combines every layer's part (member, points; tiers add theirs)."""

import datetime as dt
from typing import Annotated, Literal

from django.conf import settings
from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from members.selectors import MemberSummary, member_summary
from personalisation.selectors import member_tags
from points.api import member_or_404
from points.selectors import balance_get, points_expiring
from shop.api import MemberEnrolIn, MemberOut
from shop.idempotency import fingerprint
from shop.money import currency_exponent, parse_amount
from shop.schemas import TEXT, Amount, Currency, Moment, StrictSchema, error_responses
from tiers.api import PaidPlanOut, SpendOut, TierOut, member_tier_part

from .enrolment import member_join
from .selectors import segment_part
from .services import (
    CustomerInput,
    LineInput,
    OrderInput,
    OrderResult,
    event_record,
    order_record,
    refund_record,
)

router = Router(tags=["orders"])


class LineIn(StrictSchema):
    sku: str = Field(default="", max_length=100, pattern=TEXT)
    category: str = Field(default="", max_length=100, pattern=TEXT)
    quantity: int = Field(default=1, ge=1, le=1_000_000)
    amount: Amount = Field(description="The line's amount after discounts.")


class CustomerIn(StrictSchema):
    external_id: str | None = Field(default=None, min_length=1, max_length=100, pattern=TEXT)
    email: str | None = Field(default=None, max_length=254, pattern=TEXT)


class OrderIn(StrictSchema):
    order_id: str = Field(min_length=1, max_length=100, pattern=TEXT)
    member: str | None = Field(
        default=None, max_length=20, description="Member number.", pattern=TEXT
    )
    customer: CustomerIn | None = Field(
        default=None, description="Find or enrol the member by the shop's customer."
    )
    placed_at: Moment
    currency: Currency
    total: Amount
    shipping: Amount = "0"
    lines: list[LineIn] = Field(default_factory=list, max_length=1000)
    coupons: list[Annotated[str, Field(min_length=1, max_length=40, pattern=TEXT)]] = Field(
        default_factory=list,
        max_length=10,
        description="Coupon codes the order uses: consumed with it, in its transaction.",
    )


class OrderOut(Schema):
    order_id: str
    member: str
    points: int
    pending_until: dt.date | None
    rules: list[str]


class RefundIn(StrictSchema):
    refund_id: str = Field(min_length=1, max_length=100, pattern=TEXT)
    amount: Amount
    lines: list[LineIn] = Field(default_factory=list, max_length=1000)


class RefundOut(Schema):
    refund_id: str
    order_id: str
    points_reversed: int


EventType = Literal[tuple(sorted(settings.EVENT_RULES))]  # type: ignore[valid-type]


class EventIn(StrictSchema):
    event_id: str = Field(min_length=1, max_length=100, pattern=TEXT)
    member: str = Field(max_length=20, description="Member number.", pattern=TEXT)
    type: EventType
    occurred_at: Moment


class EventOut(Schema):
    event_id: str
    points: int
    reason: str = Field(description="Why the event earned 0 (`daily_cap`), else empty.")


class ExpiringOut(Schema):
    date: dt.date
    points: int


class PointsOut(Schema):
    available: int = Field(description="Negative while the member is in debt.")
    pending: int
    expiring: list[ExpiringOut]


class RfmOut(Schema):
    r: int = Field(description="Recency, 1-5 (5: most recent).")
    f: int = Field(description="Frequency, 1-5.")
    m: int = Field(description="Monetary, 1-5.")


class SegmentOut(Schema):
    lifecycle: str = Field(
        examples=["active"], description="new, active, at_risk, dormant or churned"
    )
    rfm: RfmOut | None = Field(description="Null without an order in the last 365 days.")
    computed_on: dt.date


class MemberEnrolReferredIn(MemberEnrolIn):
    referral_code: str | None = Field(
        default=None,
        min_length=1,
        max_length=12,
        pattern=TEXT,
        description="The referrer's code (their /r/{code} link): both are credited after "
        "this member's first order's points are released.",
    )


@router.post(
    "/members",
    response={200: MemberOut, 201: MemberOut, **error_responses(400, 404, 422)},
    summary="Enrol a member, or find the one the shop's customer already is",
    tags=["members"],
)
def members_enrol(request: HttpRequest, body: MemberEnrolReferredIn) -> Status[MemberSummary]:
    member, created = member_join(**body.model_dump())
    return Status(201 if created else 200, member_summary(member=member))


class MemberDetailOut(MemberOut):
    referral_code: str
    segment: SegmentOut | None = Field(description="From the nightly `segments` job.")
    tier: TierOut
    points: PointsOut
    paid_plan: PaidPlanOut | None
    earn_multiplier: str = Field(
        description="What an order earns at now: the tier's multiplier plus the plan's extra."
    )
    spend: SpendOut
    tags: list[str] = Field(
        description="Profile tags: the nightly rules' (`category:<name>`, `coupon_sensitive`, "
        "`high_value`, `night_shopper`, `lifecycle:<stage>`) and staff-defined ones."
    )


def _lines(lines: list[LineIn], currency: str, field: str) -> list[LineInput]:
    return [
        LineInput(
            sku=line.sku,
            category=line.category,
            quantity=line.quantity,
            amount_minor=parse_amount(line.amount, currency, field=f"{field}.{n}.amount"),
        )
        for n, line in enumerate(lines)
    ]


@router.post(
    "/orders",
    response={200: OrderOut, 201: OrderOut, **error_responses(400, 403, 404, 409, 422)},
    summary="Report a paid order: it earns points, pending for the return window",
)
def orders_create(request: HttpRequest, body: OrderIn) -> Status[OrderResult]:
    currency_exponent(body.currency, field="currency")
    data = OrderInput(
        order_id=body.order_id,
        member_number=body.member,
        customer=CustomerInput(**body.customer.model_dump()) if body.customer else None,
        placed_at=body.placed_at,
        currency=body.currency,
        total_minor=parse_amount(body.total, body.currency, field="total"),
        shipping_minor=parse_amount(body.shipping, body.currency, field="shipping"),
        lines=_lines(body.lines, body.currency, "lines"),
        coupons=body.coupons,
    )
    result, created = order_record(
        shop=request.auth.shop,  # type: ignore[attr-defined]
        data=data,
        fingerprint=fingerprint(body.model_dump(mode="json")),
        api_key=request.auth,  # type: ignore[arg-type]
    )
    return Status(201 if created else 200, result)


@router.post(
    "/orders/{order_id}/refunds",
    response={200: RefundOut, 201: RefundOut, **error_responses(400, 404, 409, 422)},
    summary="Report a refund: the order's points are taken back in proportion",
)
def refunds_create(request: HttpRequest, order_id: str, body: RefundIn) -> Status:
    currency = settings.PROGRAM_CURRENCY
    result, created = refund_record(
        shop=request.auth.shop,  # type: ignore[attr-defined]
        order_id=order_id,
        refund_id=body.refund_id,
        amount_minor=parse_amount(body.amount, currency, field="amount"),
        lines=_lines(body.lines, currency, "lines"),
        fingerprint=fingerprint({"order_id": order_id, **body.model_dump(mode="json")}),
        api_key=request.auth,  # type: ignore[arg-type]
    )
    return Status(201 if created else 200, result)


@router.post(
    "/events",
    response={200: EventOut, 201: EventOut, **error_responses(400, 403, 404, 409, 422)},
    summary="Report an action (a review, a share): it earns points up to a daily cap",
)
def events_create(request: HttpRequest, body: EventIn) -> Status:
    result, created = event_record(
        shop=request.auth.shop,  # type: ignore[attr-defined]
        member=member_or_404(body.member),
        event_id=body.event_id,
        type=body.type,
        occurred_at=body.occurred_at,
        fingerprint=fingerprint(body.model_dump(mode="json")),
        api_key=request.auth,  # type: ignore[arg-type]
    )
    return Status(201 if created else 200, result)


@router.get(
    "/members/{number}",
    response={200: MemberDetailOut, **error_responses(404)},
    summary="A member by number: status, tier and paid plan, points available, pending and "
    "expiring",
)
def members_get(request: HttpRequest, number: str) -> dict:
    member = member_or_404(number)
    balance = balance_get(member=member)
    return {
        **member_summary(member=member),
        **member_tier_part(member=member),
        "referral_code": member.referral_code,
        "segment": segment_part(member=member),
        "tags": member_tags(member=member),
        "points": {
            "available": balance.available,
            "pending": balance.pending,
            "expiring": points_expiring(member=member),
        },
    }
