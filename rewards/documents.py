"""Rewards as documents: what `rewards_import` reads, `rewards_export` writes
and a reward's `coupon` field holds, validated with pydantic so that every error
is reported with its path ("3.coupon.value")."""

import datetime as dt
from typing import Literal

from django.conf import settings
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shop.money import MoneyError, format_amount, parse_amount
from shop.schemas import Amount

from .models import CouponKind, Reward
from .services.coupons import CouponSpec

MAX_VALID_DAYS = 3650


def _minor(text: str | None, name: str) -> int | None:
    if text is None:
        return None
    try:
        return parse_amount(text, settings.PROGRAM_CURRENCY)
    except MoneyError as error:
        raise ValueError(f"`{name}`: {error.message}") from None


def money_text(minor: int | None) -> str | None:
    return None if minor is None else format_amount(minor, settings.PROGRAM_CURRENCY)


class Document(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CouponTerms(Document):
    """The coupon a reward issues. `value` is an amount ("10.00") for `amount`, a
    whole percent ("15") for `percent`, and absent for the other kinds."""

    kind: Literal["amount", "percent", "free_shipping", "gift"]
    value: str | None = Field(default=None, max_length=32)
    max_discount: Amount | None = None
    min_spend: Amount = "0"
    valid_days: int = Field(default=30, ge=1, le=MAX_VALID_DAYS)
    uses: int | None = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _value_fits_kind(self) -> "CouponTerms":
        self.spec(expires_at=None)
        return self

    def spec(self, *, expires_at: dt.datetime | None) -> CouponSpec:
        """The coupon these terms issue, expiring at `expires_at`."""
        amount, percent = 0, 0
        if self.kind == CouponKind.AMOUNT:
            amount = _minor(self.value, "value") or 0
            if not amount:
                raise ValueError("An amount coupon needs a `value` above zero, e.g. '10.00'.")
        elif self.kind == CouponKind.PERCENT:
            if self.value is None or not self.value.isdigit() or not 1 <= int(self.value) <= 100:
                raise ValueError("A percent coupon needs a `value`: a whole percent from 1 to 100.")
            percent = int(self.value)
        elif self.value is not None:
            raise ValueError(f"A {self.kind} coupon has no `value`.")
        if self.max_discount is not None and self.kind != CouponKind.PERCENT:
            raise ValueError("Only a percent coupon has a `max_discount`.")
        return CouponSpec(
            kind=self.kind,
            amount_minor=amount,
            percent=percent,
            max_discount_minor=_minor(self.max_discount, "max_discount"),
            min_spend_minor=_minor(self.min_spend, "min_spend") or 0,
            uses_allowed=self.uses,
            expires_at=expires_at,
        )


class RewardDocument(Document):
    code: str = Field(min_length=1, max_length=50, pattern=r"^[-a-zA-Z0-9_]+$")
    name: str = Field(min_length=1, max_length=100)
    name_zh_hans: str = Field(default="", max_length=100)
    name_zh_hant: str = Field(default="", max_length=100)
    description: str = ""
    description_zh_hans: str = ""
    description_zh_hant: str = ""
    image_url: str = Field(default="", max_length=200, pattern=r"^(https?://\S+)?$")
    kind: Literal["coupon", "voucher", "gift"]
    points: int = Field(ge=1, le=2**31 - 1)
    coupon: CouponTerms | None = None
    stock: int | None = Field(default=None, ge=0, le=2**31 - 1)
    min_tier: str | None = Field(default=None, max_length=30)
    per_member_limit: int | None = Field(default=None, ge=1, le=2**31 - 1)
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    active: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> "RewardDocument":
        if self.kind == Reward.Kind.GIFT and self.coupon is not None:
            raise ValueError("A gift issues no coupon: leave out `coupon`.")
        if self.kind != Reward.Kind.GIFT and self.coupon is None:
            raise ValueError(f"A {self.kind} reward needs `coupon`: the coupon it issues.")
        if self.kind == Reward.Kind.VOUCHER and self.coupon and self.coupon.kind != "amount":
            raise ValueError("A cash voucher issues an amount coupon.")
        for name in ("starts_at", "ends_at"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"`{name}` needs a time zone, e.g. 2026-12-01T00:00:00+08:00.")
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValueError("`ends_at` must be after `starts_at`.")
        return self


def coupon_terms_parse(data: object) -> CouponTerms:
    """A reward's stored `coupon` document as CouponTerms (ValidationError if bad)."""
    return CouponTerms.model_validate(data)


def error_lines(error: ValidationError, *, prefix: str = "") -> list[str]:
    """Each error of a validation as "path: message", the path dotted from the
    document's root ("2.coupon.value")."""
    lines = []
    for item in error.errors():
        path = ".".join(str(part) for part in (prefix, *item["loc"]) if part != "")
        message = item["msg"].removeprefix("Value error, ")
        lines.append(f"{path or '(document)'}: {message}")
    return lines


def reward_document(reward: Reward) -> dict:
    """A reward as its import document (what `rewards_export` prints)."""
    return {
        "code": reward.code,
        "name": reward.name,
        "name_zh_hans": reward.name_zh_hans,
        "name_zh_hant": reward.name_zh_hant,
        "description": reward.description,
        "description_zh_hans": reward.description_zh_hans,
        "description_zh_hant": reward.description_zh_hant,
        "image_url": reward.image_url,
        "kind": reward.kind,
        "points": reward.points,
        "coupon": reward.coupon,
        "stock": reward.stock,
        "min_tier": reward.min_tier.code if reward.min_tier else None,
        "per_member_limit": reward.per_member_limit,
        "starts_at": reward.starts_at.isoformat() if reward.starts_at else None,
        "ends_at": reward.ends_at.isoformat() if reward.ends_at else None,
        "active": reward.active,
    }
