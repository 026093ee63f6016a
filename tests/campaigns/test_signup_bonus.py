import re

import pytest
from django.core import mail
from django.urls import reverse

from campaigns.catalogue import campaign_save
from campaigns.documents import document_parse
from members.models import Member
from notifications.models import WebhookDelivery
from notifications.webhooks import webhook_endpoint_add
from points.models import Entry
from tests.api import post
from tests.campaigns.documents import campaign_doc
from tests.factories import ShopifyShopFactory
from tests.shop.test_shopify import fixture_bytes
from tests.shop.test_webhooks import deliver

pytestmark = pytest.mark.django_db


def test_verifying_the_email_pays_the_signup_bonus_once(client):
    campaign_save(document=document_parse(campaign_doc("signup")))  # 50 points
    campaign_save(
        document=document_parse(
            campaign_doc("signup", code="gold-only", target={"tiers": ["gold"]})
        )
    )
    client.post(
        reverse("account_signup"),
        {
            "email": "new@example.com",
            "password1": "a-long-pass-2026",
            "password2": "a-long-pass-2026",
        },
    )
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+", mail.outbox[-1].body).group(0)

    client.post(link)
    client.post(link)

    member = Member.objects.get()
    assert member.is_verified
    entries = Entry.objects.filter(member=member, source_type=Entry.Source.CAMPAIGN)
    assert list(entries.values_list("source_ref", "amount")) == [("test-signup", 50)]


def signup_campaign():
    campaign_save(document=document_parse(campaign_doc("signup")))  # 50 points


def signup_points(member):
    return list(
        Entry.objects.filter(member=member, source_type=Entry.Source.CAMPAIGN).values_list(
            "source_ref", "amount"
        )
    )


def test_the_shop_enrolling_a_verified_address_pays_the_signup_bonus_once(api_client):
    signup_campaign()
    body = {"external_id": "c-1", "email": "shop@example.com", "email_verified": True}

    assert post(api_client, "/api/v1/members", body).status_code == 201
    assert post(api_client, "/api/v1/members", body).status_code == 200

    assert signup_points(Member.objects.get()) == [("test-signup", 50)]


def test_an_unverified_enrolment_pays_nothing_until_the_shop_verifies_the_address(api_client):
    signup_campaign()
    body = {"external_id": "c-2", "email": "later@example.com"}
    post(api_client, "/api/v1/members", body)
    member = Member.objects.get()
    assert signup_points(member) == []

    post(api_client, "/api/v1/members", {**body, "email_verified": True})

    assert signup_points(member) == [("test-signup", 50)]


def test_a_shopify_order_of_a_verified_new_customer_pays_the_signup_bonus(client, settings):
    settings.PROGRAM_CURRENCY = "USD"  # Shopify's samples are in USD
    shop = ShopifyShopFactory(domain="jon-shop.myshopify.com")
    signup_campaign()

    response = deliver(
        client,
        reverse("shop:shopify-orders-create"),
        fixture_bytes("orders_create.json"),
        secret=shop.webhook_secret,
    )

    assert response.status_code == 200, response.content
    member = Member.objects.get(external_id="115310627314723954")  # verified_email: true
    assert signup_points(member) == [("test-signup", 50)]


def test_a_shop_enrolment_is_announced_to_member_enrolled_webhooks_once(api_client, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    webhook_endpoint_add(url="http://127.0.0.1:9/hooks", events=["member.enrolled"])
    body = {"external_id": "c-4", "email": "hook@example.com", "email_verified": True}

    post(api_client, "/api/v1/members", body)
    post(api_client, "/api/v1/members", body)

    member = Member.objects.get()
    [delivery] = WebhookDelivery.objects.filter(event="member.enrolled")
    assert delivery.payload == {
        "member": member.number,
        "external_id": "c-4",
        "email": "hook@example.com",
        "email_verified": True,
        "joined_at": member.joined_at.isoformat(),
        "source": "shop",
    }


def test_an_enrolment_refused_for_its_referral_code_announces_nothing(api_client, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    webhook_endpoint_add(url="http://127.0.0.1:9/hooks", events=["member.enrolled"])

    response = post(
        api_client, "/api/v1/members", {"email": "x@example.com", "referral_code": "NOSUCH"}
    )

    assert response.status_code == 404
    assert not Member.objects.exists()
    assert not WebhookDelivery.objects.exists()


def test_a_portal_sign_up_is_announced_to_member_enrolled_webhooks(client, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    webhook_endpoint_add(url="http://127.0.0.1:9/hooks", events=["member.enrolled"])

    client.post(
        reverse("account_signup"),
        {
            "email": "portal@example.com",
            "password1": "a-long-pass-2026",
            "password2": "a-long-pass-2026",
        },
    )

    [delivery] = WebhookDelivery.objects.filter(event="member.enrolled")
    assert delivery.payload["member"] == Member.objects.get().number
    assert (delivery.payload["source"], delivery.payload["email_verified"]) == ("portal", False)
