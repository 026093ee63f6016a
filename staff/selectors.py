"""Reads of the staff's tools: the dashboard's tables, from the KPI snapshot
(staff.kpis) only. A range reads the last snapshot of each month for states
(members, liability) and the monthly sums of flows (orders, points): a few
hundred rows, whatever the programme's size. Functions are `<noun>_<verb>`
with keyword-only arguments."""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Max, Sum
from django.db.models.functions import TruncMonth
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from batch.services import program_today
from campaigns.models import MemberSegment
from members.models import Member
from personalisation.selectors import recommendation_click_through
from points.selectors import points_value_minor
from shop.money import currency_exponent, format_amount
from tiers.models import PaidPlan, Tier

from .models import KpiSnapshot

STATES = (
    "members",
    "members_tier",
    "members_stage",
    "members_active",
    "buyers",
    "repeat_buyers",
    "liability_points",
    "plan_members",
    "ab_members",
)
FLOWS = (
    "members_new",
    "orders",
    "order_value_minor",
    "points_issued",
    "points_redeemed",
    "points_expired",
    "points_reversed",
    "plan_revenue_minor",
    "campaign_points",
    "campaign_orders",
    "campaign_grants",
    "ab_orders",
    "ab_spend_minor",
)
DEFAULT_MONTHS = 12

Cell = str | int


@dataclass
class Table:
    """One of the dashboard's tables: its CSV name, its columns and rows (what
    the page shows beneath the chart and the CSV holds), and its chart's data
    for Chart.js (type, labels, datasets)."""

    name: str
    title: Promise | str
    columns: list[Promise | str]
    rows: list[list[Cell]] = field(default_factory=list)
    chart: dict[str, Any] = field(default_factory=dict)

    @property
    def chart_id(self) -> str:
        return f"chart-{self.name}"


@dataclass
class Snapshot:
    months: list[str]
    last_day: dt.date | None
    states: dict[tuple[str, str, str], int]
    flows: dict[tuple[str, str, str], int]

    def state(self, month: str, metric: str, dimension: str = "") -> int:
        return self.states.get((month, metric, dimension), 0)

    def flow(self, month: str, metric: str, dimension: str = "") -> int:
        return self.flows.get((month, metric, dimension), 0)

    def dimensions(self, metric: str, flows: bool = False) -> list[str]:
        source = self.flows if flows else self.states
        return sorted({d for (_m, name, d) in source if name == metric})

    def range_sum(self, metric: str, dimension: str) -> int:
        return sum(self.flow(month, metric, dimension) for month in self.months)


def dashboard_range_default() -> tuple[dt.date, dt.date]:
    """The twelve months to the last snapshot (to yesterday when there is none)."""
    last = KpiSnapshot.objects.filter(metric="members").aggregate(day=Max("day"))["day"]
    end = last or program_today() - dt.timedelta(days=1)
    start = (end.replace(day=1) - dt.timedelta(days=DEFAULT_MONTHS * 31)).replace(day=1)
    return start, end


def _month(day: dt.date) -> str:
    return day.strftime("%Y-%m")


def _snapshot(start: dt.date, end: dt.date) -> Snapshot:
    days = (
        KpiSnapshot.objects.filter(metric="members", day__gte=start, day__lte=end)
        .values_list("day", flat=True)
        .distinct()
    )
    month_end: dict[str, dt.date] = {}
    for day in sorted(days):
        month_end[_month(day)] = day
    states = {
        (_month(day), metric, dimension): value
        for day, metric, dimension, value in KpiSnapshot.objects.filter(
            day__in=list(month_end.values()), metric__in=STATES
        ).values_list("day", "metric", "dimension", "value")
    }
    flows = {
        (_month(row["month"]), row["metric"], row["dimension"]): row["value"]
        for row in KpiSnapshot.objects.filter(day__gte=start, day__lte=end, metric__in=FLOWS)
        .annotate(month=TruncMonth("day"))
        .values("month", "metric", "dimension")
        .annotate(value=Sum("value"))
        .order_by()
    }
    months = sorted(month_end)
    return Snapshot(months, month_end[months[-1]] if months else None, states, flows)


def _money(minor: int) -> str:
    """An amount as plain decimal text (the column's title names the currency),
    so that a spreadsheet reads the CSV's figures as numbers."""
    return format_amount(minor, settings.PROGRAM_CURRENCY)


def _in_currency(title: Promise) -> str:
    return f"{title} ({settings.PROGRAM_CURRENCY})"


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}" if whole else ""


def _number(text: str) -> float | None:
    return float(text) if text else None


def _major(minor: int) -> float:
    return minor / 10 ** currency_exponent(settings.PROGRAM_CURRENCY)


def _chart(kind: str, labels: list[str], datasets: dict[Any, list[Any]]) -> dict[str, Any]:
    return {
        "type": kind,
        "labels": labels,
        "datasets": [{"label": str(label), "data": data} for label, data in datasets.items()],
    }


def _by_tier(snap: Snapshot) -> Table:
    names = dict(Tier.objects.order_by("rank").values_list("code", "name"))
    month = snap.months[-1] if snap.months else ""
    codes = [*names, *(c for c in snap.dimensions("members_tier") if c not in names)]
    rows: list[list[Cell]] = [
        [names.get(code, code), snap.state(month, "members_tier", code)] for code in codes
    ]
    return Table(
        "members_by_tier",
        _("Members by tier"),
        [_("Tier"), _("Members")],
        rows,
        _chart("bar", [str(r[0]) for r in rows], {_("Members"): [r[1] for r in rows]}),
    )


def _by_stage(snap: Snapshot) -> Table:
    names = {**dict(MemberSegment.Lifecycle.choices), "": _("Not segmented yet")}
    month = snap.months[-1] if snap.months else ""
    codes = [*MemberSegment.Lifecycle.values, ""]
    rows: list[list[Cell]] = [
        [str(names[code]), snap.state(month, "members_stage", code)]
        for code in codes
        if code or snap.state(month, "members_stage", code)
    ]
    return Table(
        "members_by_stage",
        _("Members by lifecycle stage"),
        [_("Stage"), _("Members")],
        rows,
        _chart("doughnut", [str(r[0]) for r in rows], {_("Members"): [r[1] for r in rows]}),
    )


def _members(snap: Snapshot) -> Table:
    rows: list[list[Cell]] = []
    for month in snap.months:
        members = sum(
            snap.state(month, "members", status)
            for status in Member.Status.values
            if status != Member.Status.CLOSED
        )
        rows.append(
            [
                month,
                members,
                snap.flow(month, "members_new"),
                _percent(snap.state(month, "members_active"), members),
                _percent(snap.state(month, "repeat_buyers"), snap.state(month, "buyers")),
            ]
        )
    return Table(
        "members",
        _("Members, active rate and repeat purchase rate"),
        [
            _("Month"),
            _("Members"),
            _("New members"),
            _("Active rate %"),
            _("Repeat purchase rate %"),
        ],
        rows,
        _chart(
            "line",
            snap.months,
            {
                _("Active rate %"): [_number(str(r[3])) for r in rows],
                _("Repeat purchase rate %"): [_number(str(r[4])) for r in rows],
            },
        ),
    )


def _orders_by_tier(snap: Snapshot) -> Table:
    names = dict(Tier.objects.order_by("rank").values_list("code", "name"))
    codes = [c for c in names if c in snap.dimensions("orders", flows=True)]
    rows: list[list[Cell]] = []
    series: dict[str, list[Any]] = {names[c]: [] for c in codes}
    for month in snap.months:
        for code in codes:
            orders = snap.flow(month, "orders", code)
            value = snap.flow(month, "order_value_minor", code)
            average = value // orders if orders else 0
            rows.append([month, names[code], orders, _money(average)])
            series[names[code]].append(_major(average) if orders else None)
    return Table(
        "orders_by_tier",
        _("Orders and average order value by tier"),
        [_("Month"), _("Tier"), _("Orders"), _in_currency(_("Average order value"))],
        rows,
        _chart("bar", snap.months, series),
    )


def _points(snap: Snapshot) -> Table:
    rows: list[list[Cell]] = []
    for month in snap.months:
        issued = snap.flow(month, "points_issued")
        redeemed = snap.flow(month, "points_redeemed")
        rows.append(
            [
                month,
                issued,
                redeemed,
                snap.flow(month, "points_expired"),
                snap.flow(month, "points_reversed"),
                _percent(redeemed, issued),
            ]
        )
    columns = [_("Issued"), _("Redeemed"), _("Expired"), _("Reversed")]
    return Table(
        "points",
        _("Points issued, redeemed, expired and reversed, and the redemption rate"),
        [_("Month"), *columns, _("Redemption rate %")],
        rows,
        _chart("bar", snap.months, {c: [r[i + 1] for r in rows] for i, c in enumerate(columns)}),
    )


def _liability(snap: Snapshot) -> Table:
    rows: list[list[Cell]] = []
    values = []
    for month in snap.months:
        points = snap.state(month, "liability_points")
        minor = points_value_minor(points=points)
        rows.append([month, points, _money(minor)])
        values.append(_major(minor))
    return Table(
        "liability",
        _("Outstanding points liability"),
        [_("Month"), _("Available points"), _in_currency(_("Value"))],
        rows,
        _chart("line", snap.months, {_in_currency(_("Value")): values}),
    )


def _paid_plans(snap: Snapshot) -> Table:
    names = dict(PaidPlan.objects.values_list("code", "name"))
    codes = sorted(
        set(snap.dimensions("plan_members")) | set(snap.dimensions("plan_revenue_minor", True))
    )
    rows: list[list[Cell]] = []
    series: dict[str, list[Any]] = {names.get(c, c): [] for c in codes}
    for month in snap.months:
        for code in codes:
            members = snap.state(month, "plan_members", code)
            revenue = snap.flow(month, "plan_revenue_minor", code)
            rows.append([month, names.get(code, code), members, _money(revenue)])
            series[names.get(code, code)].append(members)
    return Table(
        "paid_plans",
        _("Paid-plan members and revenue"),
        [_("Month"), _("Plan"), _("Members"), _in_currency(_("Revenue"))],
        rows,
        _chart("line", snap.months, series),
    )


def _campaigns(snap: Snapshot) -> Table:
    codes = sorted(
        set(snap.dimensions("campaign_points", True))
        | set(snap.dimensions("campaign_orders", True))
        | set(snap.dimensions("campaign_grants", True))
    )
    rows: list[list[Cell]] = [
        [
            code,
            snap.range_sum("campaign_points", code),
            snap.range_sum("campaign_orders", code),
            snap.range_sum("campaign_grants", code),
        ]
        for code in codes
    ]
    return Table(
        "campaigns",
        _("Campaign results"),
        [_("Campaign"), _("Points given"), _("Orders"), _("Grants")],
        rows,
        _chart("bar", codes, {_("Points given"): [r[1] for r in rows]}),
    )


def _ab_tests(snap: Snapshot) -> Table:
    month = snap.months[-1] if snap.months else ""
    dimensions = sorted(
        set(snap.dimensions("ab_members")) | set(snap.dimensions("ab_orders", True))
    )
    rows: list[list[Cell]] = []
    for dimension in dimensions:
        code, _sep, variant = dimension.partition(":")
        members = snap.state(month, "ab_members", dimension)
        orders = snap.range_sum("ab_orders", dimension)
        rows.append(
            [
                code,
                variant,
                members,
                orders,
                _money(snap.range_sum("ab_spend_minor", dimension)),
                _percent(orders, members),
            ]
        )
    return Table(
        "ab_tests",
        _("A/B results"),
        [
            _("Campaign"),
            _("Variant"),
            _("Members"),
            _("Orders"),
            _in_currency(_("Spend")),
            _("Orders per 100 members"),
        ],
        rows,
        _chart(
            "bar",
            [f"{r[0]} {r[1]}" for r in rows],
            {_("Orders per 100 members"): [_number(str(r[5])) for r in rows]},
        ),
    )


def _recommendations(snap: Snapshot) -> Table:
    """The recommenders' A/B test over the range: each variant's products shown,
    those clicked or put in the cart within a day, and the click-through (the
    recommendations job's daily sums)."""
    figures = []
    if snap.months and snap.last_day is not None:
        start = dt.date.fromisoformat(f"{snap.months[0]}-01")
        figures = recommendation_click_through(since=start, until=snap.last_day)
    rows: list[list[Cell]] = [
        [f.variant, f.impressions, f.clicks, _percent(f.clicks, f.impressions)] for f in figures
    ]
    return Table(
        "recommendations",
        _("Recommendations by variant"),
        [_("Variant"), _("Shown"), _("Clicked"), _("Click-through (%)")],
        rows,
        _chart(
            "bar",
            [str(r[0]) for r in rows],
            {_("Click-through (%)"): [_number(str(r[3])) for r in rows]},
        ),
    )


TABLES = {
    "members_by_tier": _by_tier,
    "members_by_stage": _by_stage,
    "members": _members,
    "orders_by_tier": _orders_by_tier,
    "points": _points,
    "liability": _liability,
    "paid_plans": _paid_plans,
    "campaigns": _campaigns,
    "ab_tests": _ab_tests,
    "recommendations": _recommendations,
}


def dashboard_tables(*, start: dt.date, end: dt.date) -> tuple[list[Table], dt.date | None]:
    """Every table of the range, and the day of its last snapshot (None: none)."""
    snap = _snapshot(start, end)
    return [build(snap) for build in TABLES.values()], snap.last_day


def dashboard_table(*, name: str, start: dt.date, end: dt.date) -> Table | None:
    build = TABLES.get(name)
    return build(_snapshot(start, end)) if build is not None else None
