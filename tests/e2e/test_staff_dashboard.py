"""A staff member opens the KPI dashboard in a real browser: the charts are drawn
(Chart.js, served by the site, under the Content Security Policy) and a table
downloads as CSV."""

import datetime as dt
from pathlib import Path

import pytest

from staff.models import KpiSnapshot
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

# Whether a canvas has any pixel drawn (not fully transparent).
DRAWN = """canvas => {
    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 3; i < data.length; i += 4) { if (data[i] !== 0) return true; }
    return false;
}"""


def test_staff_see_the_charts_drawn_and_download_a_csv(page, live_server):
    staff = UserFactory(is_staff=True, is_superuser=True)
    for n, day in enumerate([dt.date(2026, 9, 30), dt.date(2026, 10, 31)]):
        KpiSnapshot.objects.bulk_create(
            [
                KpiSnapshot(day=day, metric="members", dimension="active", value=100 + n),
                KpiSnapshot(day=day, metric="members_tier", dimension="gold", value=40 + n),
                KpiSnapshot(day=day, metric="members_tier", dimension="member", value=60),
                KpiSnapshot(day=day, metric="points_issued", value=5000 * (n + 1)),
                KpiSnapshot(day=day, metric="points_redeemed", value=1000),
                KpiSnapshot(day=day, metric="liability_points", value=90_000 + n),
            ]
        )
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )

    page.goto(f"{live_server.url}/admin/")
    page.get_by_label("Email").fill(staff.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.get_by_role("heading", name="Site administration").wait_for()
    page.get_by_role("link", name="Dashboard").click()
    page.get_by_role("heading", name="Points issued, redeemed, expired and reversed").wait_for()

    for name in ["points", "members_by_tier", "liability"]:
        canvas = page.locator(f'canvas[data-chart="chart-{name}"]')
        canvas.wait_for()
        page.wait_for_function(
            "canvas => window.Chart && Chart.getChart(canvas)", arg=canvas.element_handle()
        )
        assert canvas.evaluate(DRAWN), f"the {name} chart drew nothing"
    # The table beneath the chart holds the same figures.
    points = page.locator("#kpi-points table")
    assert points.locator("tbody tr").first.inner_text().split("\t")[:3] == [
        "2026-09",
        "5000",
        "1000",
    ]

    with page.expect_download() as download:
        page.locator("#kpi-points").get_by_role("link", name="Download CSV").click()
    content = Path(download.value.path()).read_text(encoding="utf-8")
    assert content.splitlines()[:3] == [
        "Month,Issued,Redeemed,Expired,Reversed,Redemption rate %",
        "2026-09,5000,1000,0,0,20.0",
        "2026-10,10000,1000,0,0,10.0",
    ]
    assert download.value.suggested_filename.startswith("points-")
    assert refused == []
