"""A/B results of a campaign: per variant, the members it holds, their orders,
spend and redemptions since the campaign began, and each variant's uplift in
the share of members who ordered against the control, with a 95% interval (a
two-proportion z-test)."""

import math
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Sum
from django.utils import timezone

from members.models import Member
from points.models import Entry
from shop.models import Order
from shop.money import format_program_money

from .documents import document_parse
from .jobs import targeted_members
from .models import Campaign
from .rules import campaign_variant

Z_95 = 1.959964


@dataclass(frozen=True)
class Uplift:
    difference: float
    low: float
    high: float
    z: float


def two_proportions(x1: int, n1: int, x2: int, n2: int) -> Uplift | None:
    """The difference of the proportions x1/n1 - x2/n2, its 95% interval (the
    unpooled standard error) and the z statistic (the pooled one); None when a
    group is empty."""
    if not n1 or not n2:
        return None
    p1, p2 = x1 / n1, x2 / n2
    spread = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    pooled = (x1 + x2) / (n1 + n2)
    pooled_spread = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z = (p1 - p2) / pooled_spread if pooled_spread else 0.0
    return Uplift(p1 - p2, p1 - p2 - Z_95 * spread, p1 - p2 + Z_95 * spread, z)


@dataclass
class VariantResult:
    name: str
    control: bool
    members: int = 0
    ordering: int = 0
    orders: int = 0
    spend_minor: int = 0
    redemptions: int = 0
    uplift: Uplift | None = None

    @property
    def spend(self) -> str:
        return format_program_money(self.spend_minor)

    @property
    def conversion(self) -> float:
        return self.ordering / self.members if self.members else 0.0


def ab_results(*, campaign: Campaign) -> list[VariantResult]:
    """The campaign's variants (none without an A/B test), the control first."""
    document = document_parse(campaign.document)
    if document.ab is None:
        return []
    since = document.starts_at or campaign.created_at
    now = timezone.now()
    until = min(document.ends_at, now) if document.ends_at else now
    results = {
        name: VariantResult(name=name, control=name == document.ab.control)
        for name in sorted(document.ab.variants, key=lambda n: (n != document.ab.control, n))
    }
    members = targeted_members(Member.objects.all(), document, until)
    variant_of = {}
    for pk, number in members.values_list("pk", "number").iterator(chunk_size=10_000):
        variant_of[pk] = campaign_variant(document, number)
        results[variant_of[pk]].members += 1
    orders = (
        Order.objects.filter(member__in=members, placed_at__gte=since, placed_at__lt=until)
        .values("member_id")
        .annotate(n=Count("id"), spend=Sum("total_minor"))
    )
    for row in orders.iterator(chunk_size=10_000):
        result = results[variant_of[row["member_id"]]]
        result.ordering += 1
        result.orders += row["n"]
        result.spend_minor += row["spend"] or 0
    redemptions: dict[int, int] = defaultdict(int)
    redeemed = (
        Entry.objects.filter(
            member__in=members,
            kind=Entry.Kind.REDEEM,
            created_at__gte=since,
            created_at__lt=until,
        )
        .values("member_id")
        .annotate(n=Count("id"))
    )
    for row in redeemed.iterator(chunk_size=10_000):
        redemptions[row["member_id"]] = row["n"]
    for member_id, n in redemptions.items():
        results[variant_of[member_id]].redemptions += n
    control = results[document.ab.control]
    for result in results.values():
        if not result.control:
            result.uplift = two_proportions(
                result.ordering, result.members, control.ordering, control.members
            )
    return list(results.values())
