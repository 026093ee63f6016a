"""Click-through per variant: the API's impressions, behaviour's clicks on them,
the nightly sums and the admin's page; the staff tag admin."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from batch.services import program_midnight
from personalisation.jobs import recommendation_stats_count
from personalisation.models import (
    MemberTag,
    RecommendationImpression,
    RecommendationStat,
    TagDefinition,
)
from personalisation.selectors import recommendation_click_through
from tests.api import post
from tests.factories import MemberFactory
from tests.tiers.helpers import night

from .planted import planted

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2026, 11, 20)


def test_clicks_on_recommended_products_count_for_the_members_variant(api_client, settings):
    planted(as_of=AS_OF, members_per_group=3)
    night("recommendations", AS_OF, chunk_size=10)
    members = [MemberFactory(), MemberFactory()]
    served_at = program_midnight(AS_OF) + dt.timedelta(hours=10)
    shown = {}
    for member, variant in zip(members, ["cooccurrence", "popularity"], strict=True):
        settings.RECOMMENDATION_VARIANTS = f"{variant}=1"
        with time_machine.travel(served_at, tick=False):
            body = api_client.get(f"/api/v1/members/{member.number}/recommendations?limit=4").json()
        shown[member.number] = [item["sku"] for item in body["results"]]
    assert RecommendationImpression.objects.count() == 8

    clicker = members[0]
    events = [
        {
            "event_id": f"c{n}",
            "member": clicker.number,
            "type": kind,
            "sku": sku,
            "occurred_at": (served_at + dt.timedelta(minutes=5)).isoformat(),
        }
        for n, (kind, sku) in enumerate(
            [
                ("click", shown[clicker.number][0]),
                ("add_to_cart", shown[clicker.number][1]),
                ("view", shown[clicker.number][2]),  # a view is not a click
                ("click", "NOT-SHOWN"),
            ]
        )
    ]
    early = {**events[0], "event_id": "early", "sku": shown[clicker.number][3]}
    early["occurred_at"] = (served_at - dt.timedelta(minutes=5)).isoformat()
    post(api_client, "/api/v1/behaviour", {"events": [*events, early]})

    recommendation_stats_count(day=AS_OF)

    stats = {s.variant: (s.impressions, s.clicks) for s in RecommendationStat.objects.all()}
    assert stats == {"cooccurrence": (4, 2), "popularity": (4, 0)}
    figures = {f.variant: f.click_through for f in recommendation_click_through(since=AS_OF)}
    assert figures == {"cooccurrence": 0.5, "popularity": 0.0}


def test_the_admin_shows_each_variants_click_through(admin_client):
    RecommendationStat.objects.create(day=AS_OF, variant="als", impressions=200, clicks=9)
    with time_machine.travel(program_midnight(AS_OF) + dt.timedelta(hours=10)):
        page = admin_client.get(reverse("admin:personalisation_recommendationstat_changelist"))
    assert page.status_code == 200
    assert b"4.50%" in page.content


def test_staff_give_and_remove_a_defined_tag_in_the_admin(admin_client):
    member = MemberFactory()
    TagDefinition.objects.create(code="vip", name="VIP")
    url = reverse("admin:personalisation_membertag_add")

    response = admin_client.post(url, {"member": member.pk, "tag": "vip"})
    refused = admin_client.post(url, {"member": member.pk, "tag": "undefined"})

    assert response.status_code == 302
    assert refused.status_code == 200  # the form again, with its error
    tag = MemberTag.objects.get()
    assert (tag.tag, tag.source, tag.added_by.email) == ("vip", "staff", "admin@example.com")
    delete = reverse("admin:personalisation_membertag_delete", args=[tag.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 302
    assert not MemberTag.objects.exists()


def test_rule_tags_cannot_be_deleted_in_the_admin(admin_client):
    tag = MemberTag.objects.create(member=MemberFactory(), tag="high_value", source="rule")
    delete = reverse("admin:personalisation_membertag_delete", args=[tag.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert MemberTag.objects.exists()


def test_the_staff_dashboard_has_a_table_of_the_variants(admin_client):
    from staff.models import KpiSnapshot

    for day in (dt.date(2026, 10, 31), dt.date(2026, 11, 19)):
        KpiSnapshot.objects.create(day=day, metric="members", dimension="active", value=10)
    RecommendationStat.objects.create(day=dt.date(2026, 9, 30), variant="als", impressions=99)
    RecommendationStat.objects.create(
        day=dt.date(2026, 10, 5), variant="als", impressions=200, clicks=9
    )
    RecommendationStat.objects.create(
        day=dt.date(2026, 11, 19), variant="als", impressions=100, clicks=6
    )
    RecommendationStat.objects.create(
        day=dt.date(2026, 11, 19), variant="popularity", impressions=50, clicks=1
    )
    query = {"start": "2026-10-01", "end": "2026-11-30"}

    page = admin_client.get("/admin/dashboard/", query)
    csv = admin_client.get("/admin/dashboard/recommendations.csv", query)

    tables = {table.name: table for table in page.context["tables"]}
    assert tables["recommendations"].rows == [
        ["als", 300, 15, "5.0"],
        ["popularity", 50, 1, "2.0"],
    ]
    assert 'data-chart="chart-recommendations"' in page.content.decode()
    assert csv.status_code == 200
    assert "als,300,15,5.0" in csv.content.decode()
