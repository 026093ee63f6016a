"""The nightly `kpi_snapshot` job: the programme's KPIs of the day that just
ended, one KpiSnapshot row per metric and dimension, so the dashboard reads a
few hundred rows at any scale.

Each chunk of member ids counts its members with a handful of grouped queries
(the ORM says them all: counts and sums grouped by tier, stage, plan or
campaign) and adds its sums to the day's rows with one upsert
(`value = value + excluded.value`). A chunk commits together with its
`succeeded` mark, and leaves out the member ranges an earlier run of the same
night already counted (a re-run after a crash, with any chunk size), so every
member is counted once.

Metrics (`day` is the programme day the figures describe, the day before the
run's `--as-of`; states are as the night found them):

| metric | dimension | value |
|---|---|---|
| members | status | members |
| members_tier | tier code | members not closed (no tier yet: the lowest) |
| members_stage | lifecycle stage (empty: not segmented yet) | members not closed |
| members_new | | members who joined that day |
| members_active | | members not closed with an order in the 90 days to the day's end |
| buyers, repeat_buyers | | members with 1+ and 2+ orders in the 365 days to the day's end |
| orders, order_value_minor | tier code | orders placed that day, and their net total |
| points_issued, _redeemed, _expired, _reversed | | points that day (1) |
| liability_points | | available points (debts count as none) |
| plan_members | plan code | running paid plans |
| plan_revenue_minor | plan code | the plan lines of orders placed that day |
| campaign_points, _orders, _grants | campaign code | what campaigns gave that day (2) |
| ab_members | code:variant | members of each variant of a running A/B campaign |
| ab_orders, ab_spend_minor | code:variant | their orders placed that day, and their net total |

(1) issued: earned, released and positive adjustments; redeemed: net of
cancellations. (2) on orders, and outside them (grants).
"""

import datetime as dt
from collections import Counter

from django.db import connection
from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce

from batch.models import JobChunk, Status
from batch.registry import Job, register
from batch.services import program_midnight
from campaigns.documents import document_parse
from campaigns.jobs import targeted_members
from campaigns.models import Campaign, CampaignGrant, OrderCampaign
from campaigns.rules import campaign_variant, in_window
from members.models import Member
from points.models import Account, Entry
from shop.models import Order, OrderLine
from tiers.models import PaidPlan, Subscription
from tiers.selectors import tiers_by_rank

from .models import KpiSnapshot

JOB = "kpi_snapshot"
ACTIVE_DAYS = 90
REPEAT_DAYS = 365
TABLE = KpiSnapshot._meta.db_table
Figures = Counter[tuple[str, str]]
Kind = Entry.Kind


class Members:
    """The chunk's members, less the ranges an earlier run of the same night
    counted, as a condition on any model's member id (`on("member_id")`,
    `on("pk")`, `on("order__member_id")`)."""

    def __init__(self, as_of: dt.date, first_id: int, last_id: int) -> None:
        self.first_id, self.last_id = first_id, last_id
        self.done = list(
            JobChunk.objects.filter(
                run__job=JOB,
                run__as_of=as_of,
                status=Status.SUCCEEDED,
                first_id__lte=last_id,
                last_id__gte=first_id,
            ).values_list("first_id", "last_id")
        )

    def on(self, field: str) -> Q:
        members = Q(**{f"{field}__gte": self.first_id, f"{field}__lte": self.last_id})
        for first, last in self.done:
            members &= ~Q(**{f"{field}__gte": first, f"{field}__lte": last})
        return members


def _members(figures: Figures, members: Members, end: dt.datetime, day_start: dt.datetime) -> None:
    lowest = tiers_by_rank()[0].code
    everyone = Member.objects.filter(members.on("pk"))
    for row in everyone.values("status").annotate(n=Count("pk")).order_by():
        figures["members", row["status"]] += row["n"]
    open_members = everyone.exclude(status=Member.Status.CLOSED)
    for row in open_members.values("tier_state__tier__code").annotate(n=Count("pk")).order_by():
        figures["members_tier", row["tier_state__tier__code"] or lowest] += row["n"]
    for row in open_members.values("segment__lifecycle").annotate(n=Count("pk")).order_by():
        figures["members_stage", row["segment__lifecycle"] or ""] += row["n"]
    figures["members_new", ""] += everyone.filter(
        joined_at__gte=day_start, joined_at__lt=end
    ).count()


def _orders(figures: Figures, members: Members, end: dt.datetime, day_start: dt.datetime) -> None:
    lowest = tiers_by_rank()[0].code
    placed = Order.objects.filter(members.on("member_id"), placed_at__lt=end)
    figures["members_active", ""] += (
        placed.filter(placed_at__gte=end - dt.timedelta(days=ACTIVE_DAYS))
        .exclude(member__status=Member.Status.CLOSED)
        .values("member_id")
        .distinct()
        .count()
    )
    in_year = placed.filter(placed_at__gte=end - dt.timedelta(days=REPEAT_DAYS))
    figures["buyers", ""] += in_year.values("member_id").distinct().count()
    figures["repeat_buyers", ""] += (
        in_year.values("member_id").annotate(n=Count("pk")).filter(n__gte=2).count()
    )
    by_tier = (
        placed.filter(placed_at__gte=day_start)
        .values("member__tier_state__tier__code")
        .annotate(n=Count("pk"), value=Sum("total_minor"))
        .order_by()
    )
    for row in by_tier:
        tier = row["member__tier_state__tier__code"] or lowest
        figures["orders", tier] += row["n"]
        figures["order_value_minor", tier] += row["value"] or 0


def _points(figures: Figures, members: Members, end: dt.datetime, day_start: dt.datetime) -> None:
    def total(condition: Q) -> Coalesce:
        return Coalesce(Sum("amount", filter=condition), 0)

    day = Entry.objects.filter(
        members.on("member_id"), created_at__gte=day_start, created_at__lt=end
    )
    sums = day.aggregate(
        issued=total(Q(kind__in=(Kind.EARN, Kind.RELEASE)) | Q(kind=Kind.ADJUST, amount__gt=0)),
        redeemed=total(Q(kind__in=(Kind.REDEEM, Kind.CANCEL))),
        expired=total(Q(kind=Kind.EXPIRE)),
        reversed=total(Q(kind=Kind.REVERSE)),
    )
    figures["points_issued", ""] += sums["issued"]
    figures["points_redeemed", ""] -= sums["redeemed"]
    figures["points_expired", ""] -= sums["expired"]
    figures["points_reversed", ""] -= sums["reversed"]
    figures["liability_points", ""] += Account.objects.filter(
        members.on("member_id"), available__gt=0
    ).aggregate(points=Coalesce(Sum("available"), 0))["points"]


def _plans(figures: Figures, members: Members, end: dt.datetime, day_start: dt.datetime) -> None:
    running = (
        Subscription.objects.filter(
            members.on("member_id"),
            status=Subscription.Status.ACTIVE,
            starts_at__lt=end,
            ends_at__gte=end,
        )
        .values("plan__code")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in running:
        figures["plan_members", row["plan__code"]] += row["n"]
    plans = dict(PaidPlan.objects.values_list("sku", "code"))
    if not plans:
        return
    lines = (
        OrderLine.objects.filter(
            members.on("order__member_id"),
            order__placed_at__gte=day_start,
            order__placed_at__lt=end,
            sku__in=list(plans),
        )
        .values("sku")
        .annotate(value=Sum("amount_minor"))
        .order_by()
    )
    for row in lines:
        figures["plan_revenue_minor", plans[row["sku"]]] += row["value"] or 0


def _campaigns(
    figures: Figures, members: Members, end: dt.datetime, day_start: dt.datetime
) -> None:
    applied = (
        OrderCampaign.objects.filter(
            members.on("order__member_id"),
            order__placed_at__gte=day_start,
            order__placed_at__lt=end,
        )
        .values("campaign__code")
        .annotate(n=Count("pk"), points=Sum("points"))
        .order_by()
    )
    for row in applied:
        figures["campaign_orders", row["campaign__code"]] += row["n"]
        figures["campaign_points", row["campaign__code"]] += row["points"] or 0
    grants = (
        CampaignGrant.objects.filter(
            members.on("member_id"), created_at__gte=day_start, created_at__lt=end
        )
        .values("campaign__code")
        .annotate(n=Count("pk"), points=Sum("points"))
        .order_by()
    )
    for row in grants:
        figures["campaign_grants", row["campaign__code"]] += row["n"]
        figures["campaign_points", row["campaign__code"]] += row["points"] or 0


def _ab_tests(figures: Figures, members: Members, end: dt.datetime, day_start: dt.datetime) -> None:
    """Each running A/B campaign's variants: their members, and their orders of
    the day. A member's variant is a hash of their number (campaigns.rules), so
    it is worked out here for the chunk's targeted members."""
    for document in (
        document_parse(d)
        for d in Campaign.objects.filter(active=True).values_list("document", flat=True)
    ):
        if document.ab is None or not in_window(document, day_start):
            continue
        targeted = targeted_members(Member.objects.filter(members.on("pk")), document, end)
        variant_of = {
            pk: campaign_variant(document, number)
            for pk, number in targeted.values_list("pk", "number").iterator(chunk_size=5000)
        }
        for variant in variant_of.values():
            figures["ab_members", f"{document.code}:{variant}"] += 1
        orders = (
            Order.objects.filter(
                members.on("member_id"),
                member__in=targeted,
                placed_at__gte=day_start,
                placed_at__lt=end,
            )
            .values("member_id")
            .annotate(n=Count("pk"), spend=Sum("total_minor"))
            .order_by()
        )
        for row in orders:
            dimension = f"{document.code}:{variant_of[row['member_id']]}"
            figures["ab_orders", dimension] += row["n"]
            figures["ab_spend_minor", dimension] += row["spend"] or 0


def _write(day: dt.date, figures: Figures) -> None:
    """Add the chunk's figures to the day's rows: one upsert."""
    rows = [
        (connection.ops.adapt_datefield_value(day), metric, dimension, value)
        for (metric, dimension), value in sorted(figures.items())
        if value
    ]
    if not rows:
        return
    with connection.cursor() as cursor:
        cursor.executemany(  # the table name is the model's; values are parameters
            f"INSERT INTO {TABLE} (day, metric, dimension, value) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (day, metric, dimension) "
            f"DO UPDATE SET value = {TABLE}.value + excluded.value",
            rows,
        )


def kpi_snapshot(as_of: dt.date, first_id: int, last_id: int) -> dict[str, int]:
    """The chunk first_id..last_id's part of the KPIs of the day before `as_of`."""
    end = program_midnight(as_of)
    day = as_of - dt.timedelta(days=1)
    day_start = program_midnight(day)
    members = Members(as_of, first_id, last_id)
    figures: Figures = Counter()
    _members(figures, members, end, day_start)
    _orders(figures, members, end, day_start)
    _points(figures, members, end, day_start)
    _plans(figures, members, end, day_start)
    _campaigns(figures, members, end, day_start)
    _ab_tests(figures, members, end, day_start)
    _write(day, figures)
    return {"members_counted": sum(v for (m, _d), v in figures.items() if m == "members")}


def register_jobs() -> None:
    register(Job(JOB, 110, kpi_snapshot, "the day's KPIs for the staff dashboard"))
