"""Reads of rewards and coupons."""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count
from django.utils import timezone

from members.models import Member
from points.selectors import balance_get
from shop.errors import DomainError

from .models import Coupon, DrawPlay, DrawPrize, Reward, RewardRedemption
from .services.coupons import coupon_discount, coupon_refusal, coupon_status
from .services.draws import draw_odds, units_percent
from .services.rewards import MemberStanding, member_tier_rank, redeemed_counts, reward_refusal


@dataclass(frozen=True)
class RewardOffer:
    reward: Reward
    refusal: DomainError | None


def rewards_list(*, member: Member | None = None) -> list[RewardOffer]:
    """The active rewards (points draws are played, not redeemed), cheapest
    first, each with why `member` cannot redeem it now (None: they can); with no
    member, only what is true for everyone."""
    rewards = list(
        Reward.objects.filter(active=True).exclude(kind=Reward.Kind.DRAW).select_related("min_tier")
    )
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


# How the portal orders the rewards for a member: an app above (personalisation)
# registers its ranking at start-up; without one, rewards_list's order.
RewardsRanker = Callable[[Member, list[RewardOffer]], list[RewardOffer]]
_rankers: list[RewardsRanker] = []


def register_rewards_ranker(ranker: RewardsRanker) -> None:
    _rankers[:] = [ranker]


def rewards_for_member(*, member: Member) -> list[RewardOffer]:
    """The rewards as the portal shows them to `member`: the likeliest wanted
    first, as the registered ranker orders them."""
    offers = rewards_list(member=member)
    for ranker in _rankers:
        offers = ranker(member, offers)
    return offers


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


def draw_plays_export(*, member: Member) -> list[dict[str, object]]:
    """The member's plays of points draws, for their data export."""
    plays = DrawPlay.objects.filter(member=member).select_related("reward", "prize", "coupon")
    return [
        {
            "draw": play.reward.code,
            "points": play.points,
            "odds": play.odds,
            "prize": play.prize.name if play.prize else None,
            "status": play.status,
            "coupon": play.coupon.code if play.coupon else None,
            "created_at": play.created_at.isoformat(),
        }
        for play in plays.order_by("id")
    ]


@dataclass(frozen=True)
class PrizeResult:
    name: str
    chance: str  # in force now, percent; "" for a prize out of stock or inactive
    wins: int
    share: str  # of all plays, percent


def draw_results(*, reward: Reward) -> tuple[int, list[PrizeResult]]:
    """A draw's plays so far and, per prize and for nothing won, the chance in
    force now beside the share of plays that drew it (the realised odds)."""
    odds = draw_odds(reward=reward)
    chances = {prize.pk: units_percent(units) for prize, units in odds.prizes}
    wins: dict[int | None, int] = dict(
        DrawPlay.objects.filter(reward=reward)
        .values_list("prize_id")
        .annotate(n=Count("pk"))
        .values_list("prize_id", "n")
    )
    plays = sum(wins.values())

    def share(n: int) -> str:
        return f"{Decimal(n) * 100 / plays:.2f}" if plays else ""

    rows = [
        PrizeResult(
            prize.name,
            chances.get(prize.pk, ""),
            wins.get(prize.pk, 0),
            share(wins.get(prize.pk, 0)),
        )
        for prize in DrawPrize.objects.filter(reward=reward).order_by("pk")
    ]
    rows.append(
        PrizeResult("", units_percent(odds.nothing), wins.get(None, 0), share(wins.get(None, 0)))
    )
    return plays, rows


def draw_plays_recent(
    *, member: Member, reward: Reward | None = None, limit: int = 20
) -> list[DrawPlay]:
    plays = DrawPlay.objects.filter(member=member).select_related("reward", "prize", "coupon")
    if reward is not None:
        plays = plays.filter(reward=reward)
    return list(plays.order_by("-created_at", "-pk")[:limit])


@dataclass(frozen=True)
class DrawOffer:
    reward: Reward
    odds: list[tuple[DrawPrize, str]]  # each prize in stock with its chance, percent
    nothing: str
    refusal: DomainError | None


def draw_offers(*, member: Member) -> list[DrawOffer]:
    """The open points draws, each with the odds in force now and why the member
    cannot play it (None: they can)."""
    draws = Reward.objects.filter(active=True, kind=Reward.Kind.DRAW).select_related("min_tier")
    played = dict(
        DrawPlay.objects.filter(member=member)
        .values_list("reward_id")
        .annotate(n=Count("pk"))
        .values_list("reward_id", "n")
    )
    standing = MemberStanding(
        tier_rank=member_tier_rank(member=member),
        available=balance_get(member=member).available,
        redeemed=played,
    )
    now = timezone.now()
    offers = []
    for reward in draws:
        odds = draw_odds(reward=reward)
        offers.append(
            DrawOffer(
                reward=reward,
                odds=[(prize, units_percent(units)) for prize, units in odds.prizes],
                nothing=units_percent(odds.nothing),
                refusal=reward_refusal(reward=reward, standing=standing, now=now),
            )
        )
    return offers
