import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.abtest import ab_results, two_proportions
from campaigns.catalogue import campaign_save
from campaigns.documents import document_parse
from campaigns.rules import campaign_variant
from points.models import Entry
from points.services import Source, points_earn, points_redeem
from tests.campaigns.documents import campaign_doc
from tests.factories import MemberFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db

AB = {"variants": {"A": 1, "B": 1}, "control": "A"}


def test_two_proportions_difference_interval_and_z():
    uplift = two_proportions(60, 100, 50, 100)

    assert uplift.difference == pytest.approx(0.1)
    assert (uplift.low, uplift.high) == (
        pytest.approx(-0.0372, abs=1e-4),
        pytest.approx(0.2372, abs=1e-4),
    )
    assert uplift.z == pytest.approx(1.4213, abs=1e-4)
    assert two_proportions(1, 0, 1, 10) is None


def test_results_count_members_orders_spend_and_redemptions_per_variant(client):
    start = timezone.now() - dt.timedelta(days=10)
    campaign = campaign_save(
        document=document_parse(campaign_doc(ab=AB, starts_at=start.isoformat()))
    )
    document = document_parse(campaign.document)
    members = [MemberFactory() for _ in range(16)]
    expected = {"A": [0, 0, 0, 0, 0], "B": [0, 0, 0, 0, 0]}
    for n, member in enumerate(members):
        variant = campaign_variant(document, member.number)
        expected[variant][0] += 1
        if n % 3:
            OrderFactory(
                member=member, placed_at=start + dt.timedelta(days=1), total_minor=1000 * n
            )
            expected[variant][1:4] = [
                expected[variant][1] + 1,
                expected[variant][2] + 1,
                expected[variant][3] + 1000 * n,
            ]
        if n % 4 == 0:
            points_earn(member=member, points=500, source=Source(Entry.Source.STAFF), key=f"k{n}")
            points_redeem(member=member, points=100, source=Source(Entry.Source.STAFF), key=f"r{n}")
            expected[campaign_variant(document, member.number)][4] += 1
    OrderFactory(member=members[1], placed_at=start - dt.timedelta(days=1))

    results = ab_results(campaign=campaign)

    assert [r.name for r in results] == ["A", "B"]
    got = {r.name: [r.members, r.ordering, r.orders, r.spend_minor, r.redemptions] for r in results}
    assert got == expected
    assert results[0].uplift is None and results[1].uplift is not None
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    page = client.get(reverse("admin:campaigns_campaign_results", args=[campaign.pk]))
    assert page.status_code == 200 and 'id="ab-results"' in page.content.decode()
