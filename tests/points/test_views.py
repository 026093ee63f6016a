import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from points.services import Source, points_earn, points_redeem, points_reverse
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client, member):
    client.force_login(member.user)
    return client


def test_dashboard_shows_available_pending_and_worth(logged_in, member):
    points_earn(member=member, points=1500, source=Source("order", "1"), key="a")
    later = timezone.now() + dt.timedelta(days=14)
    points_earn(
        member=member, points=40, source=Source("order", "2"), key="b", available_from=later
    )

    html = logged_in.get(reverse("members:dashboard")).content.decode()

    assert "1,500" in html
    assert 'data-testid="points-pending">40<' in html
    assert "¥15.00" in html


def test_dashboard_shows_a_debt(logged_in, member):
    points_earn(member=member, points=100, source=Source("order", "1"), key="a")
    points_redeem(member=member, points=100, source=Source("reward", "x"), key="b")
    points_reverse(
        member=member,
        of_source=Source("order", "1"),
        points=60,
        source=Source("refund", "r"),
        key="c",
    )

    html = logged_in.get(reverse("members:dashboard")).content.decode()

    assert "You owe 60 points" in html


def test_history_pages_through_the_members_own_ledger(logged_in, member):
    other = MemberFactory()
    points_earn(member=other, points=999, source=Source("order", "other-order"), key="o")
    for n in range(30):
        points_earn(member=member, points=n + 1, source=Source("order", f"mine-{n}"), key=f"k{n}")

    first = logged_in.get(reverse("points:history"))
    html = first.content.decode()
    assert "mine-29" in html
    assert "mine-4" not in html
    assert "other-order" not in html
    next_before = first.context["next_before"]

    second = logged_in.get(reverse("points:history") + f"?before={next_before}").content.decode()
    assert "mine-4" in second
    assert "mine-29" not in second


def test_history_ignores_a_malformed_cursor(logged_in, member):
    response = logged_in.get(reverse("points:history") + "?before=abc")
    assert response.status_code == 200
