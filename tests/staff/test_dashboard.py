"""The staff dashboard and its CSV downloads: staff only, read from the KPI
snapshot, a date range."""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse

from staff.models import KpiSnapshot
from tests.factories import MemberFactory, UserFactory

pytestmark = pytest.mark.django_db

DASHBOARD = "/admin/dashboard/"


def _snapshot(day, **figures):
    for (metric, dimension), value in figures.items():
        KpiSnapshot.objects.create(day=day, metric=metric, dimension=dimension, value=value)


@pytest.fixture
def snapshots():
    """Two months of a small programme: October (two nights) and November (one)."""
    for day, members, active in [
        (dt.date(2026, 10, 30), 10, 4),
        (dt.date(2026, 10, 31), 12, 6),
        (dt.date(2026, 11, 19), 20, 5),
    ]:
        KpiSnapshot.objects.bulk_create(
            [
                KpiSnapshot(day=day, metric="members", dimension="active", value=members),
                KpiSnapshot(day=day, metric="members", dimension="closed", value=3),
                KpiSnapshot(day=day, metric="members_active", value=active),
                KpiSnapshot(day=day, metric="buyers", value=8),
                KpiSnapshot(day=day, metric="repeat_buyers", value=2),
                KpiSnapshot(day=day, metric="members_new", value=1),
                KpiSnapshot(day=day, metric="members_tier", dimension="gold", value=members),
                KpiSnapshot(day=day, metric="orders", dimension="gold", value=2),
                KpiSnapshot(day=day, metric="order_value_minor", dimension="gold", value=30_000),
                KpiSnapshot(day=day, metric="points_issued", value=1000),
                KpiSnapshot(day=day, metric="points_redeemed", value=250),
                KpiSnapshot(day=day, metric="points_expired", value=50),
                KpiSnapshot(day=day, metric="liability_points", value=members * 1000),
                KpiSnapshot(day=day, metric="campaign_points", dimension="double", value=70),
                KpiSnapshot(day=day, metric="ab_members", dimension="double:A", value=5),
                KpiSnapshot(day=day, metric="ab_members", dimension="double:B", value=5),
                KpiSnapshot(day=day, metric="ab_orders", dimension="double:B", value=1),
            ]
        )


def _csv(response):
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.content.decode())))


@pytest.mark.parametrize("path", [DASHBOARD, f"{DASHBOARD}points.csv"])
def test_anonymous_visitors_are_sent_to_the_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "login" in response.url


@pytest.mark.parametrize("path", [DASHBOARD, f"{DASHBOARD}points.csv"])
def test_members_are_not_let_in(client, path, snapshots):
    client.force_login(MemberFactory().user)
    response = client.get(path)
    assert response.status_code == 302
    assert "login" in response.url
    assert b"1000" not in response.content


def test_the_admin_index_links_to_the_dashboard(admin_client):
    assert DASHBOARD in admin_client.get(reverse("admin:index")).content.decode()


def test_staff_without_any_permission_see_the_dashboard(client, snapshots):
    client.force_login(UserFactory(is_staff=True))
    assert client.get(DASHBOARD).status_code == 200


def test_the_dashboard_shows_each_table_with_its_chart(admin_client, snapshots):
    page = admin_client.get(DASHBOARD, {"start": "2026-10-01", "end": "2026-11-30"})

    assert page.status_code == 200
    text = page.content.decode()
    for name in ["members_by_tier", "members", "points", "liability", "ab_tests", "campaigns"]:
        assert f'data-chart="chart-{name}"' in text
        assert f'id="chart-{name}"' in text  # the chart's data, as JSON
        assert f"{DASHBOARD}{name}.csv?start=2026-10-01" in text
    assert "chart.umd.js" in text and "dashboard.js" in text
    assert "<script>" not in text  # no inline script: the CSP allows none
    tables = {table.name: table for table in page.context["tables"]}
    # States are each month's last night; flows add up the month's nights.
    assert tables["members"].rows == [
        ["2026-10", 12, 2, "50.0", "25.0"],
        ["2026-11", 20, 1, "25.0", "25.0"],
    ]
    assert tables["points"].rows == [
        ["2026-10", 2000, 500, 100, 0, "25.0"],
        ["2026-11", 1000, 250, 50, 0, "25.0"],
    ]
    assert tables["liability"].rows[-1] == ["2026-11", 20_000, "200.00"]
    assert tables["orders_by_tier"].rows[0] == ["2026-10", "Gold", 4, "150.00"]
    assert tables["campaigns"].rows == [["double", 210, 0, 0]]
    assert tables["ab_tests"].rows == [
        ["double", "A", 5, 0, "0.00", "0.0"],
        ["double", "B", 5, 3, "0.00", "60.0"],
    ]
    chart = tables["points"].chart
    assert chart["labels"] == ["2026-10", "2026-11"]
    assert chart["datasets"][0]["data"] == [2000, 1000]


def test_the_range_picks_the_months(admin_client, snapshots):
    page = admin_client.get(DASHBOARD, {"start": "2026-11-01", "end": "2026-11-30"})
    tables = {table.name: table for table in page.context["tables"]}
    assert [row[0] for row in tables["members"].rows] == ["2026-11"]


def test_a_bad_range_is_a_form_error_and_the_default_range(admin_client, snapshots):
    page = admin_client.get(DASHBOARD, {"start": "2026-12-01", "end": "2026-11-01"})
    assert page.status_code == 200
    assert page.context["form"].errors
    assert page.context["end"] == dt.date(2026, 11, 19)  # the last snapshot
    page = admin_client.get(DASHBOARD, {"start": "yesterday"})
    assert page.status_code == 200 and page.context["form"].errors["start"]


def test_each_table_downloads_as_csv(admin_client, snapshots):
    rows = _csv(
        admin_client.get(f"{DASHBOARD}points.csv", {"start": "2026-10-01", "end": "2026-11-30"})
    )
    assert rows == [
        ["Month", "Issued", "Redeemed", "Expired", "Reversed", "Redemption rate %"],
        ["2026-10", "2000", "500", "100", "0", "25.0"],
        ["2026-11", "1000", "250", "50", "0", "25.0"],
    ]
    by_tier = _csv(admin_client.get(f"{DASHBOARD}members_by_tier.csv"))
    assert by_tier[0] == ["Tier", "Members"]
    assert ["Gold", "20"] in by_tier


def test_an_unknown_table_is_404(admin_client):
    assert admin_client.get(f"{DASHBOARD}ledger.csv").status_code == 404


def test_the_dashboard_reads_only_the_snapshot(
    admin_client, snapshots, django_assert_max_num_queries
):
    admin_client.get(DASHBOARD)  # warm the session and permission caches
    with django_assert_max_num_queries(15):
        assert admin_client.get(DASHBOARD).status_code == 200


def test_no_snapshot_yet_says_so(admin_client):
    page = admin_client.get(DASHBOARD)
    assert page.status_code == 200
    assert "No KPI snapshot" in page.content.decode()
