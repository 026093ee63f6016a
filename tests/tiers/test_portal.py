"""The member portal's tier page and the dashboard's tier badge: a member sees
only their own tier, and what the next one still needs."""

import re

import pytest

from tests.factories import MemberFactory, order_place

from .helpers import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


def badge(html):
    found = re.findall(r'data-testid="tier-badge"[^>]*>\s*([^<]+?)\s*<', html)
    assert found, "no tier badge"
    return found


@pytest.fixture
def silver():
    member = MemberFactory()
    order_place(member, 123_456)
    return member


@pytest.fixture
def newcomer():
    member = MemberFactory()
    order_place(member, 25_000)
    return member


def test_the_tier_page_shows_the_member_s_tier_and_what_the_next_one_needs(client, silver):
    client.force_login(silver.user)

    response = client.get("/me/tier/")

    assert response.status_code == 200
    html = response.content.decode()
    assert badge(html) == ["Silver"]
    assert "¥1,234.56" in html
    assert "Spend ¥3,765.44 more to reach Gold." in html
    assert "\N{MULTIPLICATION SIGN}1.20" in html


def test_each_member_sees_only_their_own_tier(client, silver, newcomer):
    client.force_login(newcomer.user)
    html = client.get("/me/tier/").content.decode()

    assert badge(html) == ["Member"]
    assert "Spend ¥750.00 more to reach Silver." in html
    assert "1234.56" not in html
    assert "3765.44" not in html

    client.force_login(silver.user)
    html = client.get("/me/tier/").content.decode()
    assert badge(html) == ["Silver"]
    assert "750.00" not in html


def test_the_tier_page_needs_a_login(client):
    response = client.get("/me/tier/")

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_dashboard_shows_the_tier_badge(client, silver):
    client.force_login(silver.user)

    response = client.get("/me/")

    assert response.status_code == 200
    html = response.content.decode()
    assert badge(html) == ["Silver"]
    assert "Spend ¥3,765.44 more to reach Gold." in html
    assert "highest tier" not in html


def test_the_tier_page_shows_a_running_grace_period(client, silver):
    from tiers.models import MemberTier

    MemberTier.objects.filter(pk=silver.pk).update(grace_until=NOW.date())
    client.force_login(silver.user)

    html = client.get("/me/tier/").content.decode()

    assert 'data-testid="tier-grace"' in html
    assert "Jun 10, 2026" in html  # the grace period's last day, in the member's language
