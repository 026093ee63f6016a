"""Reads of rewards and coupons."""

from dataclasses import dataclass

from django.utils import timezone

from members.models import Member
from points.selectors import balance_get
from shop.errors import DomainError

from .models import Coupon, Reward, RewardRedemption
from .services.coupons import coupon_discount, coupon_refusal, coupon_status
from .services.rewards import MemberStanding, member_tier_rank, redeemed_counts, reward_refusal


@dataclass(frozen=True)
class RewardOffer:
    reward: Reward
    refusal: DomainError | None


def rewards_list(*, member: Member | None = None) -> list[RewardOffer]:
    """The active rewards, cheapest first, each with why `member` cannot redeem it
    now (None: they can); with no member, only what is true for everyone."""
    rewards = list(Reward.objects.filter(active=True).select_related("min_tier"))
    standing = None
    if member is not None:
        standing = MemberStanding(
            tier_rank=member_tier_rank(member=member),
            available=balance_get(member=member).available,
            redeemed=redeemed_counts(member=member),
        )
    now = timezone.now()
    return [
        RewardOffer(reward, reward_refusal(reward=reward, standing=standing, now=now))
        for reward in rewards
    ]


@dataclass(frozen=True)
class CouponCheck:
    coupon: Coupon
    status: str
    discount_minor: int | None
    refusal: DomainError | None


def coupon_check(
    *, coupon: Coupon, member: Member | None = None, total_minor: int | None = None
) -> CouponCheck:
    """A coupon as the shop sees it at checkout: its status, what it takes off an
    order of `total_minor` (an amount coupon: its amount, at most the total), and
    why it cannot be used (the checks of what is not given skipped)."""
    now = timezone.now()
    discount = None
    if total_minor is not None:
        discount = coupon_discount(coupon=coupon, total_minor=total_minor)
    elif coupon.kind == "amount":
        discount = coupon.amount_minor
    return CouponCheck(
        coupon=coupon,
        status=coupon_status(coupon=coupon, now=now),
        discount_minor=discount,
        refusal=coupon_refusal(coupon=coupon, member=member, total_minor=total_minor, now=now),
    )


def coupons_export(*, member: Member) -> list[dict[str, object]]:
    """The member's coupons, for their data export."""
    now = timezone.now()
    return [
        {
            "code": coupon.code,
            "kind": coupon.kind,
            "status": coupon_status(coupon=coupon, now=now),
            "source": coupon.source,
            "expires_at": coupon.expires_at.isoformat() if coupon.expires_at else None,
            "uses": coupon.uses_count,
            "uses_allowed": coupon.uses_allowed,
            "created_at": coupon.created_at.isoformat(),
        }
        for coupon in Coupon.objects.filter(owner=member).order_by("id")
    ]


def redemptions_export(*, member: Member) -> list[dict[str, object]]:
    """The rewards the member bought with points, for their data export."""
    redemptions = (
        RewardRedemption.objects.filter(member=member)
        .select_related("reward", "coupon")
        .order_by("id")
    )
    return [
        {
            "reward": redemption.reward.code,
            "points": redemption.points,
            "status": redemption.status,
            "coupon": redemption.coupon.code if redemption.coupon else None,
            "created_at": redemption.created_at.isoformat(),
        }
        for redemption in redemptions
    ]
