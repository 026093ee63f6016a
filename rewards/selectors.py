"""Reads of rewards and coupons."""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, Q
from django.utils import timezone

from members.l10n import in_language
from members.models import Member
from points.selectors import balance_get
from shop.errors import DomainError

from .errors import TierRequired
from .models import Coupon, DrawPlay, DrawPrize, Reward, RewardRedemption
from .services.coupons import coupon_discount, coupon_refusal, coupon_status
from .services.draws import draw_odds, units_percent
from .services.rewards import MemberStanding, member_tier_rank, redeemed_counts, reward_refusal


@dataclass(frozen=True)
class RewardOffer:
    reward: Reward
    refusal: DomainError | None


def rewards_list(
    *, member: Member | None = None, available: int | None = None
) -> list[RewardOffer]:
    """The active rewards (points draws are played, not redeemed), cheapest
    first, each with why `member` cannot redeem it now (None: they can); with no
    member, only what is true for everyone. `available`: the member's points to
    spend when the caller has read them already."""
    rewards = list(
        Reward.objects.filter(active=True).exclude(kind=Reward.Kind.DRAW).select_related("min_tier")
    )
    standing = None
    if member is not None:
        standing = MemberStanding(
            tier_rank=member_tier_rank(member=member),
            available=balance_get(member=member).available if available is None else available,
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


def rewards_for_member(*, member: Member, available: int | None = None) -> list[RewardOffer]:
    """The rewards as the portal shows them to `member`: the likeliest wanted
    first, as the registered ranker orders them."""
    offers = rewards_list(member=member, available=available)
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


@dataclass(frozen=True)
class RewardCard:
    """A reward on the member's rewards page: whether they can redeem it now,
    how many points they lack, whether their tier locks it."""

    reward: Reward
    refusal: DomainError | None
    lack: int

    @property
    def available(self) -> bool:
        return self.refusal is None

    @property
    def locked(self) -> bool:
        return isinstance(self.refusal, TierRequired)


def rewards_order(*, member: Member, cards: list[RewardCard]) -> list[RewardCard]:
    """The order of the rewards page: what the member can redeem now first, then
    what they lack fewest points for, then the tier-locked. Within each group the
    registered ranker's order (`rewards_for_member`) where an app registered one,
    else cheapest first."""

    def group(card: RewardCard) -> int:
        return 0 if card.available else (2 if card.locked or card.lack == 0 else 1)

    if _rankers:
        return sorted(cards, key=group)
    return sorted(cards, key=lambda card: (group(card), card.lack, card.reward.points))


def reward_cards(*, member: Member) -> tuple[int, list[RewardCard]]:
    """The member's available points and the catalogue as their rewards page
    shows it (`rewards_order`). A constant number of queries, whatever the
    member's history."""
    available = balance_get(member=member).available
    cards = [
        RewardCard(
            reward=offer.reward,
            refusal=offer.refusal,
            lack=max(offer.reward.points - max(available, 0), 0),
        )
        for offer in rewards_for_member(member=member, available=available)
    ]
    return available, rewards_order(member=member, cards=cards)


def reward_card(*, member: Member, code: str) -> tuple[int, RewardCard] | None:
    """One active reward as the member's rewards page shows it, or None."""
    available, cards = reward_cards(member=member)
    found = next((card for card in cards if card.reward.code == code), None)
    return (available, found) if found is not None else None


class WalletTab:
    ACTIVE = "active"
    USED = "used"
    EXPIRED = "expired"
    GIFTS = "gifts"
    ALL = (ACTIVE, USED, EXPIRED, GIFTS)


def wallet_coupons(
    *, member: Member, tab: str, before_id: int | None = None, limit: int = 20
) -> tuple[list[CouponCheck], int | None]:
    """A page of the member's own coupons on a tab of their wallet, newest first:
    active (usable now), used (used up) or expired (expired or void). By keyset
    (`before_id` is the last id of the previous page): (coupons, the id to ask for
    the next page or None)."""
    now = timezone.now()
    coupons = Coupon.objects.filter(owner=member).select_related("redemption__reward")
    used_up = Q(uses_allowed__isnull=False, uses_count__gte=F("uses_allowed"))
    expired = Q(expires_at__isnull=False, expires_at__lte=now)
    if tab == WalletTab.ACTIVE:
        coupons = coupons.filter(voided_at__isnull=True).exclude(used_up).exclude(expired)
    elif tab == WalletTab.USED:
        coupons = coupons.filter(used_up, voided_at__isnull=True)
    else:
        coupons = coupons.filter(Q(voided_at__isnull=False) | (expired & ~used_up))
    if before_id is not None:
        coupons = coupons.filter(id__lt=before_id)
    page = list(coupons.order_by("-id")[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    checks = [
        CouponCheck(
            coupon=coupon,
            status=coupon_status(coupon=coupon, now=now),
            discount_minor=coupon.amount_minor if coupon.kind == "amount" else None,
            refusal=None,
        )
        for coupon in page
    ]
    return checks, (page[-1].id if more else None)


@dataclass(frozen=True)
class WalletGift:
    """A physical gift of the member's, with its shipping state (`gift`): a
    reward redeemed, or a draw's prize won (`draw` the draw)."""

    gift: RewardRedemption | DrawPlay
    item: Reward | DrawPrize
    draw: Reward | None


def wallet_gifts(*, member: Member, limit: int = 50) -> list[WalletGift]:
    """The physical gifts the member redeemed or won in a draw, newest first,
    with their shipping state."""
    redeemed = [
        WalletGift(gift=redemption, item=redemption.reward, draw=None)
        for redemption in RewardRedemption.objects.filter(
            member=member, reward__kind=Reward.Kind.GIFT
        )
        .select_related("reward")
        .order_by("-id")[:limit]
    ]
    won = [
        WalletGift(gift=play, item=play.prize, draw=play.reward)
        for play in DrawPlay.objects.filter(member=member, prize__kind=DrawPrize.Kind.GIFT)
        .select_related("reward", "prize")
        .order_by("-created_at", "-pk")[:limit]
        if play.prize is not None
    ]
    gifts = sorted([*redeemed, *won], key=lambda gift: gift.gift.created_at, reverse=True)
    return gifts[:limit]


def reward_names(refs: set[str]) -> dict[str, str]:
    """The rewards with these codes, by code, named in the active language (the
    points history's words for a redemption)."""
    return {
        reward.code: in_language(reward, "name") for reward in Reward.objects.filter(code__in=refs)
    }
