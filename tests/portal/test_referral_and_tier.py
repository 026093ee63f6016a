"""/me/referral/, the /r/{code} landing, and the paid plan on /me/tier/."""

import pytest
from django.urls import reverse

from campaigns.catalogue import campaign_save
from campaigns.documents import document_parse
from campaigns.models import Referral
from campaigns.referrals import referral_record
from tests.campaigns.documents import campaign_doc
from tests.factories import MemberFactory, order_place
from tiers.models import PaidPlan, Tier

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(client):
    member = MemberFactory()
    client.force_login(member.user)
    return member


def test_referral_page_gives_the_link_and_the_state_of_each_referral(client, member):
    campaign_save(document=document_parse(campaign_doc("referral", code="friends")))
    signed_up, ordered, rewarded = MemberFactory(), MemberFactory(), MemberFactory()
    for referee in (signed_up, ordered, rewarded):
        referral_record(referee=referee, referrer=member)
    order_place(ordered, 10000)
    Referral.objects.filter(referee=rewarded).update(status=Referral.Status.CREDITED)
    referral_record(referee=MemberFactory(), referrer=MemberFactory())

    html = client.get(reverse("campaigns:referral")).content.decode()

    assert f"/r/{member.referral_code}" in html
    assert html.count('data-testid="referral"') == 3
    assert "Signed up: waiting for a first order" in html
    assert "Ordered: points once the order is settled" in html
    assert 'class="tag ok">Rewarded' in html


def test_the_landing_page_starts_sign_up_with_the_referral_kept(client):
    referrer = MemberFactory()
    client.logout()

    response = client.get(reverse("campaigns:referral_link", args=[referrer.referral_code.lower()]))

    assert response.status_code == 200
    assert reverse("account_signup") in response.content.decode()
    assert client.session["referral_code"] == referrer.referral_code
    assert response.cookies["referral_code"].value == referrer.referral_code


def test_an_unknown_referral_code_keeps_nothing(client):
    response = client.get(reverse("campaigns:referral_link", args=["NOPE2345"]))

    assert response.status_code == 404
    assert "referral_code" not in client.session
    assert "This invitation link does not work" in response.content.decode()


def test_the_tier_page_offers_the_paid_plan(client, member, settings):
    settings.SHOP_URL = "https://shop.example.com/plus"
    PaidPlan.objects.create(
        code="plus",
        name="Plus",
        name_zh_hant="Plus 會員",
        sku="PLUS-1Y",
        price_minor=19900,
        free_shipping=True,
        extra_multiplier="0.5",
    )

    html = client.get(reverse("tiers:tier")).content.decode()

    assert 'data-testid="plan"' in html
    assert "¥199.00 for 365 days" in html
    assert "Free shipping" in html and "https://shop.example.com/plus" in html
    member.language = "zh-hant"
    member.save()
    assert "Plus 會員" in client.get(reverse("tiers:tier")).content.decode()


def test_the_tier_page_describes_the_tier_in_the_members_language(client, member):
    tier = Tier.objects.get(code="member")
    tier.description, tier.description_zh_hans = "Points on every order.", "每笔订单都有积分。"
    tier.save()

    english = client.get(reverse("tiers:tier")).content.decode()
    member.language = "zh-hans"
    member.save()
    chinese = client.get(reverse("tiers:tier")).content.decode()
    member.language = "zh-hant"
    member.save()
    traditional = client.get(reverse("tiers:tier")).content.decode()

    assert 'data-testid="tier-description">Points on every order.<' in english
    assert 'data-testid="tier-description">每笔订单都有积分。<' in chinese
    # No Traditional Chinese text: the default one.
    assert 'data-testid="tier-description">Points on every order.<' in traditional
