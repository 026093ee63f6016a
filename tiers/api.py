"""The tiers part of the shop API: what the member lookup says about a member's
tier, qualifying spend and paid plan (the lookup itself is in `campaigns.api`,
which combines every layer's part)."""

import datetime as dt

from django.conf import settings
from ninja import Field, Schema

from members.models import Member
from shop.money import format_amount

from .selectors import tier_status


class BenefitsOut(Schema):
    discount_percent: int
    free_shipping: bool
    priority_support: bool
    birthday_gift: bool
    early_access: bool


class TierOut(Schema):
    code: str = Field(examples=["gold"])
    name: str
    multiplier: str = Field(description="The tier's earn multiplier.", examples=["1.50"])
    benefits: BenefitsOut
    since: dt.datetime | None
    grace_until: dt.date | None = Field(
        description="Below the tier's threshold: the day the member drops a tier unless "
        "they requalify before it; null when not in grace."
    )
    held_until: dt.date | None = Field(description="A staff override keeps the tier until then.")


class NextTierOut(Schema):
    code: str
    name: str
    spend_left: str = Field(description="Qualifying spend still needed.", examples=["1250.00"])
    orders_left: int


class SpendOut(Schema):
    window_days: int
    since: dt.date = Field(description="The first day of the qualifying window.")
    amount: str = Field(description="Qualifying spend, net of refunds.", examples=["3750.00"])
    currency: str
    orders: int
    next_tier: NextTierOut | None


class PaidPlanOut(Schema):
    code: str
    name: str
    ends_at: dt.datetime
    extra_multiplier: str = Field(examples=["0.50"])
    benefits: BenefitsOut


def member_tier_part(*, member: Member) -> dict:
    """The member lookup's tier, spend, paid plan and earn multiplier."""
    status = tier_status(member=member)
    currency = settings.PROGRAM_CURRENCY
    subscription = status.subscription
    next_tier = status.next_tier
    return {
        "tier": {
            "code": status.tier.code,
            "name": status.tier.name,
            "multiplier": str(status.tier.multiplier),
            "benefits": status.tier.benefits(),
            "since": status.since,
            "grace_until": status.grace_until,
            "held_until": status.override_until,
        },
        "spend": {
            "window_days": settings.TIER_WINDOW_DAYS,
            "since": status.window_start,
            "amount": format_amount(status.spend_minor, currency),
            "currency": currency,
            "orders": status.orders,
            "next_tier": {
                "code": next_tier.code,
                "name": next_tier.name,
                "spend_left": format_amount(status.spend_left_minor, currency),
                "orders_left": status.orders_left,
            }
            if next_tier
            else None,
        },
        "paid_plan": {
            "code": subscription.plan.code,
            "name": subscription.plan.name,
            "ends_at": subscription.ends_at,
            "extra_multiplier": str(subscription.plan.extra_multiplier),
            "benefits": subscription.plan.benefits(),
        }
        if subscription
        else None,
        "earn_multiplier": str(status.multiplier),
    }
