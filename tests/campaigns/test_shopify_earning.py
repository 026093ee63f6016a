"""A Shopify store connected with no code: its own order and refund payloads earn
and take back points through the same services as the API."""

import json

import pytest
from django.urls import reverse

from campaigns.models import OrderPoints
from members.models import Member
from points.models import Entry
from points.selectors import balance_get
from shop.models import Order, Refund
from tests.factories import ShopifyShopFactory, ledger_is_clean
from tests.shop.test_shopify import fixture_bytes
from tests.shop.test_webhooks import deliver

pytestmark = pytest.mark.django_db

ORDERS = reverse("shop:shopify-orders-create")
REFUNDS = reverse("shop:shopify-refunds-create")
ORDER_BODY = fixture_bytes("orders_create.json")
REFUND_BODY = fixture_bytes("refunds_create.json")


@pytest.fixture(autouse=True)
def _usd_programme(settings):
    settings.PROGRAM_CURRENCY = "USD"  # Shopify's samples are in USD
    yield
    assert ledger_is_clean()


@pytest.fixture
def shop():
    return ShopifyShopFactory(domain="jon-shop.myshopify.com")


def test_a_signed_order_enrols_the_customer_and_earns_on_the_net(client, shop):
    response = deliver(client, ORDERS, ORDER_BODY, secret=shop.webhook_secret)

    assert response.status_code == 200, response.content
    member = Member.objects.get(external_id="115310627314723954")
    assert member.user.email == "jon@example.com"
    assert member.is_verified  # the customer's verified_email: Shopify verified it
    order = Order.objects.get(order_id="820982911946154508")
    assert (order.shopify_shop, order.shop) == (shop, shop.shop)
    # 409.96 of lines after discounts, shipping excluded: 409 points.
    assert OrderPoints.objects.get(order=order).points == 409
    balance = balance_get(member=member)
    assert balance.pending + balance.available == 409


def test_a_bad_signature_earns_nothing(client, shop):
    response = deliver(client, ORDERS, ORDER_BODY, secret="not-the-shop-secret")

    assert response.status_code == 401
    assert not Order.objects.exists()
    assert not Entry.objects.exists()


def test_the_same_event_delivered_twice_with_two_webhook_ids_earns_once(client, shop):
    first = deliver(client, ORDERS, ORDER_BODY, secret=shop.webhook_secret, webhook_id="wh-1")
    second = deliver(client, ORDERS, ORDER_BODY, secret=shop.webhook_secret, webhook_id="wh-2")

    assert first.json() == {"status": "accepted"}
    assert second.json() == {"status": "duplicate"}
    assert Entry.objects.count() == 1


def test_the_same_order_in_a_new_event_is_not_earned_twice(client, shop):
    deliver(client, ORDERS, ORDER_BODY, secret=shop.webhook_secret, event_id="e-1")
    again = deliver(client, ORDERS, ORDER_BODY, secret=shop.webhook_secret, event_id="e-2")

    assert again.status_code == 200
    assert Entry.objects.count() == 1


def test_a_refund_takes_back_its_share_of_the_points(client, shop):
    deliver(client, ORDERS, ORDER_BODY, secret=shop.webhook_secret, event_id="e-order")

    response = deliver(
        client,
        REFUNDS,
        REFUND_BODY,
        secret=shop.webhook_secret,
        topic="refunds/create",
        event_id="e-refund",
    )

    assert response.status_code == 200, response.content
    refund = Refund.objects.get()
    assert refund.amount_minor == 8580
    member = Member.objects.get()
    balance = balance_get(member=member)
    # 409 * 85.80 / 409.96 = 85.6, rounded down: 85 points taken back.
    assert balance.pending + balance.available == 409 - 85


def test_a_refund_of_an_order_the_programme_never_saw_changes_nothing(client, shop):
    response = deliver(
        client,
        REFUNDS,
        REFUND_BODY,
        secret=shop.webhook_secret,
        topic="refunds/create",
        event_id="e-refund",
    )

    assert response.json() == {"status": "accepted"}
    assert not Refund.objects.exists()


def test_a_guest_order_without_an_email_is_recorded_and_earns_nothing(client, shop):
    payload = json.loads(ORDER_BODY)
    payload["customer"] = None
    payload["email"] = None
    payload["contact_email"] = None
    body = json.dumps(payload).encode()

    response = deliver(client, ORDERS, body, secret=shop.webhook_secret)

    assert response.json() == {"status": "accepted"}
    assert not Order.objects.exists()


def test_a_customer_shopify_has_not_verified_enrols_unverified(client, shop):
    order = json.loads(ORDER_BODY)
    order["customer"]["verified_email"] = False

    response = deliver(client, ORDERS, json.dumps(order).encode(), secret=shop.webhook_secret)

    assert response.status_code == 200, response.content
    assert not Member.objects.get(external_id="115310627314723954").is_verified
