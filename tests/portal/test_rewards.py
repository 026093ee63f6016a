"""/me/rewards/ (redeem with a confirmation) and /me/coupons/ (the wallet)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from points.models import Account
from rewards.models import Coupon, Reward, RewardRedemption
from rewards.services.gifts import gift_ship
from tests.rewards.conftest import member_with_points
from tiers.models import Tier

from .helpers import make_reward

pytestmark = pytest.mark.django_db

REWARDS = reverse("rewards:rewards")
COUPONS = reverse("rewards:coupons")
KEY = "6f1c3a52-0a9b-4c55-9a5e-1f2d3c4b5a69"


@pytest.fixture
def member(client):
    member = member_with_points(1500)
    client.force_login(member.user)
    return member


def _card(html, code):
    match = re.search(rf'<li[^>]*id="reward-{code}".*?</li>', html, re.S)
    assert match, code
    return match.group(0)


def test_the_page_says_what_the_member_can_afford_lacks_and_is_locked_out_of(client, member):
    make_reward("cheap", points=1000)
    make_reward("dear", points=1750)
    make_reward("gold-only", points=100, min_tier=Tier.objects.get(code="gold"))

    html = client.get(REWARDS).content.decode()

    assert 'data-testid="redeem"' in _card(html, "cheap")
    assert "You need 250 more points." in _card(html, "dear")
    locked = _card(html, "gold-only")
    assert "Locked: for Gold members" in locked and 'data-testid="redeem"' not in locked
    assert html.index('id="reward-cheap"') < html.index('id="reward-dear"')
    assert html.index('id="reward-dear"') < html.index('id="reward-gold-only"')


def test_reward_names_are_shown_in_the_members_language(client, member):
    make_reward("tea", name="Tea sampler", name_zh_hans="茶叶礼盒", name_zh_hant="茶葉禮盒")
    member.language = "zh-hant"
    member.save()

    html = client.get(REWARDS).content.decode()

    assert "茶葉禮盒" in html and "Tea sampler" not in html


def test_redeem_confirms_first_then_shows_the_coupon(client, member):
    make_reward("ten-off", points=1000)
    url = reverse("rewards:redeem", args=["ten-off"])

    confirm = client.get(url).content.decode()
    assert "You will have 500 points left." in confirm
    assert not RewardRedemption.objects.exists()

    response = client.post(url, {"key": KEY})

    redemption = RewardRedemption.objects.get(member=member)
    assert response.status_code == 302
    assert response["Location"] == reverse("rewards:redeemed", args=[redemption.public_id])
    page = client.get(response["Location"]).content.decode()
    assert redemption.coupon.code in page
    assert Account.objects.get(member=member).available == 500
    wallet = client.get(COUPONS).content.decode()
    assert redemption.coupon.code in wallet


def test_the_same_confirmation_sent_twice_redeems_once(client, member):
    make_reward("ten-off", points=500)
    url = reverse("rewards:redeem", args=["ten-off"])

    client.post(url, {"key": KEY})
    client.post(url, {"key": KEY})

    assert RewardRedemption.objects.filter(member=member).count() == 1
    assert Account.objects.get(member=member).available == 1000


def test_redeem_with_htmx_answers_the_coupon_in_the_card(client, member):
    make_reward("ten-off", points=1000)
    make_reward("mug", points=800)  # affordable with 1,500 points, not with the 500 left
    url = reverse("rewards:redeem", args=["ten-off"])

    fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in fragment and 'data-testid="confirm-redeem"' in fragment
    response = client.post(url, {"key": KEY}, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert Coupon.objects.get(owner=member).code in html
    # Out of band: the page's balance line (1,500 - 1,000 left) and the other
    # cards' actions, the mug's now out of reach; not the redeemed card's own.
    (balance,) = re.findall(r'<p id="rewards-balance"[^>]*>.*?</p>', html, re.S)
    assert 'hx-swap-oob="true"' in balance and "<strong>500</strong>" in balance
    (mug,) = re.findall(r'<div id="reward-mug-action"[^>]*>.*?</div>', html, re.S)
    assert 'hx-swap-oob="true"' in mug and "You need 300 more points." in mug
    assert 'id="reward-ten-off-action"' not in html


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"points": 5000}, "You do not have enough points for this reward."),
        ({"stock": 0}, "This reward is out of stock."),
    ],
)
def test_a_refused_redemption_says_why_and_writes_nothing(client, member, fields, message):
    make_reward("nope", **fields)

    response = client.post(reverse("rewards:redeem", args=["nope"]), {"key": KEY})

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not RewardRedemption.objects.exists()
    assert Account.objects.get(member=member).available == 1500


def test_an_unverified_member_is_told_to_verify(client):
    member = member_with_points(1500, email_verified_at=None)
    client.force_login(member.user)
    make_reward("ten-off", points=1000)

    response = client.post(reverse("rewards:redeem", args=["ten-off"]), {"key": KEY})

    assert "Verify your e-mail address first" in response.content.decode()
    assert not RewardRedemption.objects.exists()


def test_another_members_redemption_is_not_found(client, member):
    make_reward("ten-off", points=1000)
    other = member_with_points(2000)
    client.force_login(other.user)
    client.post(reverse("rewards:redeem", args=["ten-off"]), {"key": KEY})
    theirs = RewardRedemption.objects.get(member=other)

    client.force_login(member.user)

    assert client.get(reverse("rewards:redeemed", args=[theirs.public_id])).status_code == 404
    assert theirs.coupon.code not in client.get(COUPONS).content.decode()


def test_wallet_tabs_sort_coupons_and_gifts_show_their_shipping(client, member):
    make_reward("ten-off", points=100)
    make_reward("mug", points=100, kind=Reward.Kind.GIFT, coupon=None, name="Mug")
    url = reverse("rewards:redeem", args=["ten-off"])
    client.post(url, {"key": KEY})
    client.post(url, {"key": "0b7d7a3c-7c1e-4a40-9a57-3c1f2e9d8b11"})
    client.post(
        reverse("rewards:redeem", args=["mug"]), {"key": "1c2d3e4f-5a6b-4c7d-8e9f-a0b1c2d3e4f5"}
    )
    used, unused = Coupon.objects.filter(owner=member).order_by("id")
    Coupon.objects.filter(pk=used.pk).update(uses_allowed=1, uses_count=1)

    active = client.get(COUPONS).content.decode()
    used_tab = client.get(COUPONS + "?show=used").content.decode()
    gifts = client.get(COUPONS + "?show=gifts").content.decode()

    assert unused.code in active and used.code not in active
    assert used.code in used_tab and unused.code not in used_tab
    assert "Being prepared" in gifts
    gift_ship(gift=RewardRedemption.objects.get(reward__code="mug"), note="SF Express SF123")
    shipped = client.get(COUPONS + "?show=gifts").content.decode()
    assert "Shipped" in shipped and "SF Express SF123" in shipped


def test_the_wallet_pages_its_coupons_newest_first(client, member):
    Coupon.objects.bulk_create(
        Coupon(code=f"PAGE{n:06d}", kind="free_shipping", owner=member, source="staff")
        for n in range(25)
    )

    first = client.get(COUPONS).content.decode()
    codes = re.findall(r"PAGE\d{6}", first)
    older = re.search(r'href="\?show=active&amp;before=(\d+)"', first)
    second = client.get(COUPONS, {"show": "active", "before": older.group(1)}).content.decode()

    assert first.count('data-testid="coupon"') == 20
    assert codes[0] == "PAGE000024"
    assert second.count('data-testid="coupon"') == 5
    assert "PAGE000004" in second and "PAGE000005" not in second
    assert not re.search(r'href="\?show=active&amp;before=', second)


def test_the_rewards_page_reads_the_balance_once(client, member):
    make_reward("ten-off", points=100)
    client.get(REWARDS)

    with CaptureQueriesContext(connection) as queries:
        assert client.get(REWARDS).status_code == 200

    assert sum('FROM "points_account"' in query["sql"] for query in queries) == 1
