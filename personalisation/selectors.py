"""Reads of personalisation: a member's tags, their A/B variant and
recommendations by scene, the rewards ordered for them, the variants'
click-through. Functions are `<noun>_<verb>` with keyword-only arguments."""

import datetime as dt
import hashlib
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Subquery, Sum
from django.utils import timezone

from members.models import Member
from rewards.selectors import RewardOffer
from shop.models import Order, OrderLine, Product

from .models import (
    Algorithm,
    ItemNeighbour,
    MemberRecommendation,
    MemberTag,
    Model,
    RecommendationStat,
)

RECENT_PURCHASE_DAYS = 30
SCENES = ("home", "cart", "after_purchase")
REASONS: dict[str, str] = {
    Algorithm.COOCCURRENCE.value: "bought_together",
    Algorithm.ALS.value: "similar_members",
    Algorithm.CONTENT.value: "same_category",
    Algorithm.POPULARITY.value: "popular",
}
VARIANT_SALT = "recommendations"


def member_tags(*, member: Member) -> list[str]:
    """The member's tags: the nightly rules' and the staff's, sorted."""
    return sorted(MemberTag.objects.filter(member=member).values_list("tag", flat=True))


def recommendation_variants() -> dict[str, int]:
    """The A/B split, RECOMMENDATION_VARIANTS ("als=40,cooccurrence=30,..."): each
    variant is an algorithm, with its weight."""
    variants: dict[str, int] = {}
    for part in settings.RECOMMENDATION_VARIANTS.split(","):
        name, _sep, weight = part.strip().partition("=")
        if name in Algorithm.values and weight.strip().isdigit() and int(weight) > 0:
            variants[name] = int(weight)
    return variants or {Algorithm.POPULARITY.value: 1}


def recommendation_variant(*, member_number: str) -> str:
    """The member's variant: a stable hash of their number spread over the
    variants by weight (in the order of their names), as campaigns split theirs."""
    variants = recommendation_variants()
    digest = hashlib.sha256(f"{VARIANT_SALT}:{member_number}".encode()).digest()
    slot = int.from_bytes(digest[:8], "big") % sum(variants.values())
    for name in sorted(variants):
        slot -= variants[name]
        if slot < 0:
            return name
    raise AssertionError("unreachable: the weights add up to more than the slot")


@dataclass(frozen=True)
class Recommended:
    product_id: int
    sku: str
    score: float
    reason: str


@dataclass(frozen=True)
class Recommendations:
    variant: str
    algorithm: str  # what answered: the variant's, or popularity for a cold start
    results: list[Recommended]


def _recently_bought(member: Member) -> set[int]:
    """Products the member bought in the last RECENT_PURCHASE_DAYS that are not
    consumable: never recommended to them."""
    since = timezone.now() - dt.timedelta(days=RECENT_PURCHASE_DAYS)
    skus = OrderLine.objects.filter(order__member=member, order__placed_at__gte=since).values("sku")
    return set(
        Product.objects.filter(sku__in=Subquery(skus), consumable=False).values_list(
            "id", flat=True
        )
    )


def _popular() -> list[tuple[int, float]]:
    """The popular products the night kept (a few hundred), most popular first:
    enough to fill a list past what is excluded or inactive."""
    return list(
        ItemNeighbour.objects.filter(
            model=Model.NIGHT, algorithm=Algorithm.POPULARITY, product__isnull=True
        )
        .order_by("rank")
        .values_list("neighbour_id", "score")
    )


def _neighbours(algorithm: str, product_ids: list[int], limit: int) -> list[tuple[int, float]]:
    """The products next to `product_ids` by `algorithm`, scores summed, best first."""
    scores: dict[int, float] = defaultdict(float)
    for neighbour, score in ItemNeighbour.objects.filter(
        model=Model.NIGHT, algorithm=algorithm, product_id__in=product_ids
    ).values_list("neighbour_id", "score"):
        scores[neighbour] += score
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:limit]


def _candidates(member: Member, algorithm: str, scene: str, cart: list[int]) -> list:
    pool = settings.RECOMMENDATION_TOP_N
    if algorithm == Algorithm.POPULARITY:
        return []
    if scene == "home":
        return list(
            MemberRecommendation.objects.filter(member=member, algorithm=algorithm)
            .order_by("rank")
            .values_list("product_id", "score")[:pool]
        )
    if scene == "after_purchase":
        last = Order.objects.filter(member=member).order_by("-placed_at", "-id").values("id")[:1]
        lines = OrderLine.objects.filter(order_id=Subquery(last)).values("sku")
        cart = list(Product.objects.filter(sku__in=Subquery(lines)).values_list("id", flat=True))
    return _neighbours(algorithm, cart, pool) if cart else []


def _active(ranked: list[tuple[int, float, str]], excluded: set[int], limit: int) -> list:
    """The first `limit` of `ranked` that are active products and not excluded."""
    active = dict(
        Product.objects.filter(id__in=[pid for pid, _s, _a in ranked], active=True).values_list(
            "id", "sku"
        )
    )
    results: list[Recommended] = []
    seen: set[int] = set()
    for pid, score, algorithm in ranked:
        if pid in seen or pid in excluded or pid not in active:
            continue
        seen.add(pid)
        results.append(Recommended(pid, active[pid], round(score, 6), REASONS[algorithm]))
        if len(results) == limit:
            break
    return results


def recommendations_get(
    *, member: Member, scene: str, skus: list[str], limit: int
) -> Recommendations:
    """Up to `limit` products for the member in `scene`, from the rows the nightly
    job stored, by their variant's algorithm: `home` their own top products,
    `cart` the neighbours of the cart's SKUs, `after_purchase` those of their
    last order. Never an inactive product, one in the cart, or one they bought in
    the last 30 days unless it is consumable; what is missing is filled with the
    most popular products (a cold start)."""
    variant = recommendation_variant(member_number=member.number)
    excluded = _recently_bought(member)
    cart: list[int] = []
    if scene == "cart" and skus:
        cart = list(Product.objects.filter(sku__in=skus).values_list("id", flat=True))
        excluded |= set(cart)
    ranked = [(pid, score, variant) for pid, score in _candidates(member, variant, scene, cart)]
    results = _active(ranked, excluded, limit) if ranked else []
    if len(results) < limit:
        shown = {item.product_id for item in results}
        popular = [(pid, score, Algorithm.POPULARITY.value) for pid, score in _popular()]
        results += _active(popular, excluded | shown, limit - len(results))
    answered = variant if results and results[0].reason == REASONS[variant] else "popularity"
    return Recommendations(variant=variant, algorithm=answered, results=results)


def rewards_rank(member: Member, offers: list[RewardOffer]) -> list[RewardOffer]:
    """The rewards in the order the portal shows them to the member (registered
    with rewards' `rewards_for_member`): first those they can redeem now, then
    those whose name or code names one of their categories (their `category:`
    tags and what they bought), then the dearest they can afford, so the
    likeliest wanted come first."""
    interests = {
        tag.removeprefix("category:").lower()
        for tag in member_tags(member=member)
        if tag.startswith("category:")
    }
    spend = (
        OrderLine.objects.filter(order__member=member)
        .exclude(category="")
        .values("category")
        .annotate(spend=Sum("amount_minor"))
    )
    interests |= {row["category"].lower() for row in spend}

    def affinity(offer: RewardOffer) -> int:
        text = f"{offer.reward.code} {offer.reward.name}".lower()
        return sum(1 for interest in interests if interest and interest in text)

    return sorted(
        offers,
        key=lambda offer: (
            offer.refusal is not None,
            -affinity(offer),
            -offer.reward.points if offer.refusal is None else offer.reward.points,
            offer.reward.code,
        ),
    )


@dataclass(frozen=True)
class VariantFigures:
    variant: str
    impressions: int
    clicks: int

    @property
    def click_through(self) -> float:
        return self.clicks / self.impressions if self.impressions else 0.0

    @property
    def percent(self) -> float:
        return self.click_through * 100


def recommendation_click_through(
    *, since: dt.date, until: dt.date | None = None
) -> list[VariantFigures]:
    """Each variant's impressions, clicks and click-through from `since` to
    `until` (the nightly job's daily figures), for the staff dashboard and the
    admin."""
    days = RecommendationStat.objects.filter(day__gte=since)
    if until is not None:
        days = days.filter(day__lte=until)
    rows = (
        days.values("variant")
        .annotate(impressions=Sum("impressions"), clicks=Sum("clicks"))
        .order_by("variant")
    )
    return [
        VariantFigures(row["variant"], row["impressions"] or 0, row["clicks"] or 0) for row in rows
    ]
