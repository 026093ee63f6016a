"""The rewards part of the shop API: coupons at checkout (look up, redeem,
release), the rewards catalogue, and redemptions, of points as a discount or of
a reward (this layer sees both: points' redemptions and rewards')."""

import datetime as dt
import uuid

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation
from ninja import Field, Query, Router, Schema, Status
from pydantic import model_validator

from members.models import Member
from points.api import member_or_404
from points.models import Redemption
from points.redemptions import redemption_cancel, redemption_create
from shop.errors import Invalid, NotFound
from shop.idempotency import fingerprint
from shop.money import format_amount, parse_amount
from shop.schemas import TEXT, Amount, StrictSchema, error_responses, query_known

from .models import Coupon, RewardRedemption
from .selectors import coupon_check, rewards_list
from .services.coupons import coupon_get, coupon_redeem, coupon_release
from .services.rewards import reward_redeem, reward_redemption_cancel

router = Router(tags=["rewards and coupons"])

CODE = r"^[-A-Za-z0-9 ]{1,40}$"


def _money(minor: int | None) -> dict | None:
    if minor is None:
        return None
    currency = settings.PROGRAM_CURRENCY
    return {"amount": format_amount(minor, currency), "currency": currency}


def _amount(minor: int | None) -> str | None:
    return None if minor is None else format_amount(minor, settings.PROGRAM_CURRENCY)


def _total(text: str | None, field: str) -> int | None:
    return None if text is None else parse_amount(text, settings.PROGRAM_CURRENCY, field=field)


def _member(number: str | None) -> Member | None:
    return None if number is None else member_or_404(number)


def _known_length(code: str) -> str:
    """A code longer than any code is nobody's (and is not looked up)."""
    if len(code) > 40:
        raise NotFound("No coupon has this code.")
    return code


def _coupon(code: str) -> Coupon:
    return coupon_get(code=_known_length(code))


class MoneyOut(Schema):
    amount: str = Field(examples=["10.00"])
    currency: str = Field(examples=["CNY"])


class CouponQuery(Schema):
    member: str | None = Field(
        default=None, max_length=20, pattern=TEXT, description="Member number."
    )
    total: Amount | None = Field(default=None, description="The order's total, for min_spend.")


class CouponOut(Schema):
    code: str
    kind: str = Field(examples=["amount", "percent", "free_shipping", "gift"])
    status: str = Field(examples=["active", "used_up", "expired", "void"])
    discount: MoneyOut | None = Field(
        description="What it takes off: an amount coupon's amount (at most `total`), a "
        "percent coupon's discount on `total` when given; null otherwise."
    )
    percent: int | None
    max_discount: str | None
    min_spend: str
    uses_left: int | None = Field(description="null: unlimited.")
    expires_at: dt.datetime | None
    owner: str | None = Field(description="The member number it belongs to; null: anyone.")
    applicable: bool
    reason: str | None = Field(description="Why not applicable: an error code.")


@router.get(
    "/coupons/{code}",
    response={200: CouponOut, **error_responses(400, 404, 422)},
    summary="Look up a coupon: what it gives and whether it applies to this member and order",
)
def coupons_get(request: HttpRequest, code: str, query: Query[CouponQuery]) -> dict:
    query_known(request, CouponQuery)
    coupon = _coupon(code)
    check = coupon_check(
        coupon=coupon, member=_member(query.member), total_minor=_total(query.total, "total")
    )
    return {
        "code": coupon.code,
        "kind": coupon.kind,
        "status": check.status,
        "discount": _money(check.discount_minor),
        "percent": coupon.percent if coupon.kind == "percent" else None,
        "max_discount": _amount(coupon.max_discount_minor),
        "min_spend": _amount(coupon.min_spend_minor),
        "uses_left": _uses_left(coupon),
        "expires_at": coupon.expires_at,
        "owner": coupon.owner.number if coupon.owner else None,
        "applicable": check.refusal is None,
        "reason": check.refusal.code if check.refusal else None,
    }


def _uses_left(coupon: Coupon) -> int | None:
    if coupon.uses_allowed is None:
        return None
    return max(0, coupon.uses_allowed - coupon.uses_count)


class CouponRedeemIn(StrictSchema):
    member: str | None = Field(
        default=None, max_length=20, pattern=TEXT, description="Member number (a guest: none)."
    )
    order_id: str = Field(min_length=1, max_length=100, pattern=TEXT)
    total: Amount = Field(description="The order's total, for min_spend and the discount.")
    idempotency_key: str = Field(min_length=1, max_length=100, pattern=TEXT)


class CouponRedeemOut(Schema):
    code: str
    order_id: str
    discount: MoneyOut
    uses_left: int | None


@router.post(
    "/coupons/{code}/redeem",
    response={
        200: CouponRedeemOut,
        201: CouponRedeemOut,
        **error_responses(400, 403, 404, 409, 422),
    },
    summary="Consume one use of a coupon for an order",
)
def coupons_redeem(request: HttpRequest, code: str, body: CouponRedeemIn) -> Status[dict]:
    use, created = coupon_redeem(
        shop=request.auth.shop,  # type: ignore[attr-defined]
        code=_known_length(code),
        order_id=body.order_id,
        total_minor=parse_amount(body.total, settings.PROGRAM_CURRENCY, field="total"),
        key=body.idempotency_key,
        fingerprint=fingerprint(body.model_dump(mode="json")),
        member=_member(body.member),
    )
    coupon = use.coupon
    return Status(
        201 if created else 200,
        {
            "code": coupon.code,
            "order_id": use.order_id,
            "discount": _money(use.discount_minor),
            "uses_left": _uses_left(coupon),
        },
    )


class CouponReleaseIn(StrictSchema):
    order_id: str = Field(min_length=1, max_length=100, pattern=TEXT)


class CouponReleaseOut(Schema):
    code: str
    order_id: str
    uses_left: int | None


@router.post(
    "/coupons/{code}/release",
    response={200: CouponReleaseOut, **error_responses(400, 404, 422)},
    summary="Give back the use an order holds (an abandoned checkout, a cancelled order)",
)
def coupons_release(request: HttpRequest, code: str, body: CouponReleaseIn) -> dict:
    coupon = coupon_release(
        shop=request.auth.shop,  # type: ignore[attr-defined]
        code=_known_length(code),
        order_id=body.order_id,
    )
    return {"code": coupon.code, "order_id": body.order_id, "uses_left": _uses_left(coupon)}


class RewardsQuery(Schema):
    member: str | None = Field(
        default=None, max_length=20, pattern=TEXT, description="Member number."
    )


class RewardOut(Schema):
    code: str
    name: str
    kind: str = Field(examples=["coupon", "voucher", "gift"])
    points: int
    stock_left: int | None = Field(description="null: unlimited.")
    min_tier: str | None
    per_member_limit: int | None
    available: bool
    reason: str | None = Field(description="Why not available: an error code.")


class RewardPage(Schema):
    results: list[RewardOut]


@router.get(
    "/rewards",
    response={200: RewardPage, **error_responses(400, 404, 422)},
    summary="The rewards catalogue, and which rewards a member can redeem now",
)
def rewards_get(request: HttpRequest, query: Query[RewardsQuery]) -> dict:
    query_known(request, RewardsQuery)
    member = _member(query.member)
    language = (member.language if member else "") or translation.get_language()
    return {
        "results": [
            {
                "code": offer.reward.code,
                "name": offer.reward.name_in(language),
                "kind": offer.reward.kind,
                "points": offer.reward.points,
                "stock_left": offer.reward.stock,
                "min_tier": offer.reward.min_tier.code if offer.reward.min_tier else None,
                "per_member_limit": offer.reward.per_member_limit,
                "available": offer.refusal is None,
                "reason": offer.refusal.code if offer.refusal else None,
            }
            for offer in rewards_list(member=member)
        ]
    }


class RedemptionIn(StrictSchema):
    member: str = Field(
        description="Member number.", examples=["M12345678"], max_length=20, pattern=TEXT
    )
    points: int | None = Field(
        default=None, gt=0, le=10**12, description="Points to spend as a discount, in steps."
    )
    reward: str | None = Field(
        default=None, max_length=50, pattern=TEXT, description="A reward's code, to redeem it."
    )
    idempotency_key: str = Field(min_length=1, max_length=100, pattern=TEXT)
    order_total: Amount | None = Field(
        default=None, description="The order's total: points pay at most a share of it."
    )
    order_ref: str = Field(
        default="", max_length=100, description="The shop's cart or order.", pattern=TEXT
    )

    @model_validator(mode="after")
    def _points_or_reward(self) -> "RedemptionIn":
        if (self.points is None) == (self.reward is None):
            raise ValueError("Send either `points` or `reward`.")
        if self.reward is not None and (self.order_total is not None or self.order_ref):
            raise ValueError("A reward takes no `order_total` or `order_ref`.")
        return self


class CouponIssuedOut(Schema):
    code: str
    expires_at: dt.datetime | None


class RedemptionOut(Schema):
    id: uuid.UUID
    member: str
    points: int
    status: str = Field(examples=["active", "to_ship", "shipped", "cancelled"])
    discount: MoneyOut | None = Field(default=None, description="Points spent as a discount.")
    reward: str | None = Field(default=None, description="The reward redeemed.")
    coupon: CouponIssuedOut | None = Field(default=None, description="The coupon issued.")


def _points_redemption_out(redemption: Redemption) -> dict:
    return {
        "id": redemption.public_id,
        "member": redemption.member.number,
        "points": redemption.points,
        "status": redemption.status,
        "discount": {
            "amount": format_amount(redemption.discount_minor, redemption.currency),
            "currency": redemption.currency,
        },
    }


def _reward_redemption_out(redemption: RewardRedemption) -> dict:
    coupon = redemption.coupon
    return {
        "id": redemption.public_id,
        "member": redemption.member.number,
        "points": redemption.points,
        "status": redemption.status,
        "reward": redemption.reward.code,
        "coupon": {"code": coupon.code, "expires_at": coupon.expires_at} if coupon else None,
    }


@router.post(
    "/redemptions",
    response={200: RedemptionOut, 201: RedemptionOut, **error_responses(400, 403, 404, 409, 422)},
    summary="Spend points: as a discount at checkout (`points`) or on a reward (`reward`)",
)
def redemptions_create(request: HttpRequest, body: RedemptionIn) -> Status[dict]:
    member = member_or_404(body.member)
    if body.reward is not None:
        reward_redemption, created = reward_redeem(
            shop=request.auth.shop,  # type: ignore[attr-defined]
            member=member,
            reward_code=body.reward,
            key=body.idempotency_key,
        )
        return Status(201 if created else 200, _reward_redemption_out(reward_redemption))
    if body.points is None:
        raise Invalid("Send either `points` or `reward`.")
    redemption, created = redemption_create(
        shop=request.auth.shop,  # type: ignore[attr-defined]
        member=member,
        points=body.points,
        key=body.idempotency_key,
        order_total_minor=_total(body.order_total, "order_total"),
        order_ref=body.order_ref,
        api_key=request.auth,  # type: ignore[attr-defined]
    )
    return Status(201 if created else 200, _points_redemption_out(redemption))


@router.post(
    "/redemptions/{redemption_id}/cancel",
    response={200: RedemptionOut, **error_responses(404, 409, 422)},
    summary="Cancel a redemption: the points go back (a reward's stock too, its coupon void)",
)
def redemptions_cancel(request: HttpRequest, redemption_id: uuid.UUID) -> dict:
    redemption = (
        Redemption.objects.select_related("member", "entry")
        .filter(public_id=redemption_id, shop=request.auth.shop)  # type: ignore[attr-defined]
        .first()
    )
    if redemption is not None:
        return _points_redemption_out(redemption_cancel(redemption=redemption))
    reward_redemption = RewardRedemption.objects.filter(
        public_id=redemption_id,
        shop=request.auth.shop,  # type: ignore[attr-defined]
    ).first()
    if reward_redemption is None:
        raise NotFound("No such redemption.")
    cancelled = reward_redemption_cancel(redemption=reward_redemption)
    return _reward_redemption_out(
        RewardRedemption.objects.select_related("member", "reward", "coupon").get(pk=cancelled.pk)
    )
