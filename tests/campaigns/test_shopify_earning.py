"""A Shopify store connected with no code: its own order and refund payloads earn
and take back points through the same services as the API."""

import json

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import OrderPoints
from members.models import Member
from points.models import Entry
from points.selectors import balance_get
from shop.models import Order, Refund, WebhookDelivery
from tests.factories import (
    MemberFactory,
    ShopFactory,
    ShopifyShopFactory,
    UserFactory,
    ledger_is_clean,
)
from tests.shop.test_shopify import fixture_bytes
from tests.shop.test_webhooks import deliver

pytestmark = pytest.mark.django_db

ORDERS = reverse("shop:shopify-orders-create")
REFUNDS = reverse("shop:shopify-refunds-create")
ORDERS_PAID = reverse("shop:shopify-orders-paid")
ORDERS_CANCELLED = reverse("shop:shopify-orders-cancelled")
TOPICS = {
    ORDERS: "orders/create",
    ORDERS_PAID: "orders/paid",
    ORDERS_CANCELLED: "orders/cancelled",
    REFUNDS: "refunds/create",
}
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


@pytest.fixture
def send(client, shop):
    """Delivers a body to a topic's address as the shop sends it: signed with its
    secret, under the address's topic."""

    def send(path, body, **headers):
        topic = TOPICS[path]
        return deliver(client, path, body, secret=shop.webhook_secret, topic=topic, **headers)

    return send


def test_a_signed_order_enrols_the_customer_and_earns_on_the_net(shop, send):
    response = send(ORDERS, ORDER_BODY)

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


def test_the_same_event_delivered_twice_with_two_webhook_ids_earns_once(send):
    first = send(ORDERS, ORDER_BODY, webhook_id="wh-1")
    second = send(ORDERS, ORDER_BODY, webhook_id="wh-2")

    assert first.json() == {"status": "accepted"}
    assert second.json() == {"status": "duplicate"}
    assert Entry.objects.count() == 1


def test_the_same_order_in_a_new_event_is_not_earned_twice(send):
    send(ORDERS, ORDER_BODY, event_id="e-1")
    again = send(ORDERS, ORDER_BODY, event_id="e-2")

    assert again.status_code == 200
    assert Entry.objects.count() == 1


def test_a_refund_takes_back_its_share_of_the_points(send):
    send(ORDERS, ORDER_BODY, event_id="e-order")

    response = send(REFUNDS, REFUND_BODY, event_id="e-refund")

    assert response.status_code == 200, response.content
    refund = Refund.objects.get()
    assert refund.amount_minor == 8580
    member = Member.objects.get()
    balance = balance_get(member=member)
    # 409 * 85.80 / 409.96 = 85.6, rounded down: 85 points taken back.
    assert balance.pending + balance.available == 409 - 85


def test_an_old_refund_of_an_order_that_never_came_is_ignored(send):
    # Refunded in March: the order is not coming any more.
    response = send(REFUNDS, REFUND_BODY, event_id="e-refund")

    assert response.json() == {"status": "ignored"}
    assert WebhookDelivery.objects.get().reason == "order_never_received"
    assert not Refund.objects.exists()


def test_a_guest_order_without_an_email_is_recorded_and_earns_nothing(send):
    payload = json.loads(ORDER_BODY)
    payload["customer"] = None
    payload["email"] = None
    payload["contact_email"] = None
    body = json.dumps(payload).encode()

    response = send(ORDERS, body)

    assert response.json() == {"status": "ignored"}
    assert WebhookDelivery.objects.get().reason == "guest"
    assert not Order.objects.exists()


def test_a_customer_shopify_has_not_verified_enrols_unverified(send):
    order = json.loads(ORDER_BODY)
    order["customer"]["verified_email"] = False

    response = send(ORDERS, json.dumps(order).encode())

    assert response.status_code == 200, response.content
    assert not Member.objects.get(external_id="115310627314723954").is_verified


def _order(**changes):
    payload = json.loads(ORDER_BODY)
    payload.update(changes)
    return json.dumps(payload).encode()


def _refund(**changes):
    payload = json.loads(REFUND_BODY)
    payload.update(changes)
    return json.dumps(payload).encode()


def _points(member):
    balance = balance_get(member=member)
    return balance.pending + balance.available


def test_a_test_order_is_recorded_as_test_and_earns_nothing(send):
    response = send(ORDERS_PAID, _order(test=True))

    assert response.json() == {"status": "ignored"}
    assert WebhookDelivery.objects.get().reason == "test"
    assert not Order.objects.exists()
    assert not Entry.objects.exists()


def test_an_unpaid_order_created_earns_only_once_paid(send):
    unpaid = send(ORDERS, _order(financial_status="pending"), event_id="e-create")
    assert unpaid.json() == {"status": "ignored"}
    assert WebhookDelivery.objects.get().reason == "unpaid"
    assert not Order.objects.exists()

    paid = send(ORDERS_PAID, _order(financial_status="paid"), event_id="e-paid")

    assert paid.json() == {"status": "accepted"}
    assert OrderPoints.objects.get().points == 409


def test_orders_paid_after_a_paid_orders_create_earns_once(send):
    send(ORDERS, ORDER_BODY, event_id="e-create")
    paid = send(ORDERS_PAID, ORDER_BODY, event_id="e-paid")

    assert paid.json() == {"status": "ignored"}
    assert Entry.objects.count() == 1


def test_a_cancellation_takes_the_points_back_and_a_later_refund_does_nothing(send):
    send(ORDERS_PAID, ORDER_BODY, event_id="e-paid")
    member = Member.objects.get()
    assert _points(member) == 409

    cancelled = send(ORDERS_CANCELLED, ORDER_BODY, event_id="e-cancel")
    refund = send(REFUNDS, _refund(created_at=timezone.now().isoformat()), event_id="e-refund")

    assert cancelled.json() == {"status": "accepted"}
    assert _points(member) == 0
    order = Order.objects.get()
    assert order.refunded_minor == order.total_minor  # no qualifying spend left
    assert refund.json() == {"status": "ignored"}
    assert WebhookDelivery.objects.get(event_id="e-refund").reason == "order_cancelled"


def test_a_refund_before_its_order_is_409_then_taken_after_the_order(send):
    early = _refund(created_at=timezone.now().isoformat())

    first = send(REFUNDS, early, event_id="e-refund")

    assert first.status_code == 409
    assert first.json()["error"]["code"] == "order_not_received"
    assert not WebhookDelivery.objects.exists()

    send(ORDERS_PAID, ORDER_BODY, event_id="e-paid")
    retry = send(REFUNDS, early, event_id="e-refund")

    assert retry.json() == {"status": "accepted"}
    assert _points(Member.objects.get()) == 409 - 85


def test_a_refund_of_a_test_order_does_nothing(send):
    send(ORDERS_PAID, _order(test=True), event_id="e-paid")

    response = send(REFUNDS, _refund(created_at=timezone.now().isoformat()), event_id="e-refund")

    assert response.json() == {"status": "ignored"}
    assert WebhookDelivery.objects.get(event_id="e-refund").reason == "order_not_earning"


def test_a_frozen_member_s_order_is_200_kept_as_refused_and_shown_to_staff(client, send):
    MemberFactory(external_id="115310627314723954", status=Member.Status.FROZEN)

    response = send(ORDERS_PAID, ORDER_BODY)

    assert response.status_code == 200
    assert response.json()["status"] == "refused"
    assert response.json()["error"]["code"] == "member_inactive"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.reason) == ("refused", "member_inactive")
    assert not Order.objects.exists()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    page = client.get(
        reverse("admin:shop_webhookdelivery_changelist"), {"status__exact": "refused"}
    ).content.decode()
    assert "820982911946154508" in page
    assert "member_inactive" in page


def test_an_order_in_another_currency_is_kept_as_refused(send, settings):
    settings.PROGRAM_CURRENCY = "CNY"

    response = send(ORDERS_PAID, ORDER_BODY)

    assert response.status_code == 200
    assert response.json()["error"]["code"] == "unsupported_currency"
    assert WebhookDelivery.objects.get().status == "refused"
    assert not Order.objects.exists()


def test_a_full_refund_with_shipping_takes_back_all_the_points(send):
    send(ORDERS_PAID, ORDER_BODY, event_id="e-paid")
    order = Order.objects.get()
    # No lines: an amount typed in by staff, the order's net plus shipping and tax.
    refund = _refund(
        created_at=timezone.now().isoformat(),
        refund_line_items=[],
        transactions=[
            {"kind": "refund", "status": "success", "currency": "USD", "amount": "430.96"}
        ],
    )

    response = send(REFUNDS, refund, event_id="e-refund")

    assert response.json() == {"status": "accepted"}, response.content
    order.refresh_from_db()
    assert order.refunded_minor == order.total_minor == 40996
    assert _points(Member.objects.get()) == 0


def test_a_refund_of_lines_over_what_is_left_is_kept_as_refused(send):
    send(ORDERS_PAID, ORDER_BODY, event_id="e-paid")
    send(REFUNDS, _refund(created_at=timezone.now().isoformat()), event_id="e-refund-1")
    too_much = json.loads(_refund(id=2, created_at=timezone.now().isoformat()))
    too_much["refund_line_items"][0]["subtotal_set"]["shop_money"]["amount"] = "400.00"

    response = send(REFUNDS, json.dumps(too_much).encode(), event_id="e-refund-2")

    assert response.status_code == 200
    assert response.json()["error"]["code"] == "refund_exceeds_order"
    assert WebhookDelivery.objects.get(event_id="e-refund-2").status == "refused"
    assert Refund.objects.count() == 1


def test_a_store_reports_for_its_own_shop(client):
    store = ShopifyShopFactory(domain="tea.myshopify.com", shop=ShopFactory(code="tea"))

    deliver(
        client,
        ORDERS_PAID,
        ORDER_BODY,
        secret=store.webhook_secret,
        topic="orders/paid",
        domain="tea.myshopify.com",
    )

    assert Order.objects.get().shop.code == "tea"
