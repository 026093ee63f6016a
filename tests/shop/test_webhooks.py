"""POST /webhooks/shopify/...: signature, deduplication, dispatch, atomicity."""

import datetime as dt
import json

import pytest
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from shop import webhooks
from shop.errors import Conflict, RetryLater
from shop.models import ShopifyShop, WebhookDelivery
from shop.services import shopify_signature
from shop.shopify import ShopifyOrder, ShopifyRefund
from shop.webhooks import TOPIC_ORDERS_CREATE, TOPIC_REFUNDS_CREATE, register_shopify_handler
from tests.factories import ShopifyShopFactory
from tests.shop.test_shopify import fixture_bytes

pytestmark = pytest.mark.django_db

ORDERS = reverse("shop:shopify-orders-create")
REFUNDS = reverse("shop:shopify-refunds-create")
ORDER_BODY = fixture_bytes("orders_create.json")
REFUND_BODY = fixture_bytes("refunds_create.json")


def use_handler(monkeypatch, topic, handler):
    """Put `handler` in place of the registered one for this test only."""
    monkeypatch.setitem(webhooks._handlers, topic, handler)


@pytest.fixture
def calls(monkeypatch):
    """Handlers that record what they were given, for this test only."""
    received: list[tuple[ShopifyShop, object]] = []

    def handler(*, store, payload):
        received.append((store, payload))

    use_handler(monkeypatch, TOPIC_ORDERS_CREATE, handler)
    use_handler(monkeypatch, TOPIC_REFUNDS_CREATE, handler)
    return received


@pytest.fixture
def shop():
    return ShopifyShopFactory(domain="jon-shop.myshopify.com")


def deliver(
    client,
    path,
    body,
    *,
    secret,
    domain="jon-shop.myshopify.com",
    topic=TOPIC_ORDERS_CREATE,
    event_id="evt-1",
    webhook_id="wh-1",
    signature=None,
    triggered_at="now",
):
    headers = {
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": signature or shopify_signature(body=body, secret=secret),
        "X-Shopify-Shop-Domain": domain,
        "X-Shopify-API-Version": "2026-01",
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-Triggered-At": (
            timezone.now().isoformat() if triggered_at == "now" else triggered_at
        ),
        "X-Shopify-Event-Id": event_id,
    }
    headers = {name: value for name, value in headers.items() if value is not None}
    return client.post(path, body, content_type="application/json", headers=headers)


def test_a_signed_order_is_accepted_parsed_and_recorded(client, shop, calls):
    response = deliver(client, ORDERS, ORDER_BODY, secret=shop.webhook_secret)

    assert response.status_code == 200
    assert response.json() == {"status": "accepted"}
    ((got_shop, order),) = calls
    assert got_shop == shop
    assert isinstance(order, ShopifyOrder)
    assert (order.id, order.total_minor) == ("820982911946154508", 40996)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.store, delivery.topic, delivery.event_id, delivery.webhook_id) == (
        shop,
        "orders/create",
        "evt-1",
        "wh-1",
    )


def test_a_signed_refund_is_accepted(client, shop, calls):
    response = deliver(
        client, REFUNDS, REFUND_BODY, secret=shop.webhook_secret, topic=TOPIC_REFUNDS_CREATE
    )

    assert response.status_code == 200
    ((_shop, refund),) = calls
    assert isinstance(refund, ShopifyRefund)
    assert refund.amount_minor == 8580


def test_without_a_handler_the_delivery_is_still_recorded(client, shop, monkeypatch):
    monkeypatch.delitem(webhooks._handlers, TOPIC_ORDERS_CREATE, raising=False)
    response = deliver(client, ORDERS, ORDER_BODY, secret=shop.webhook_secret)

    assert response.json() == {"status": "accepted"}
    assert WebhookDelivery.objects.count() == 1


@pytest.mark.parametrize(
    "signature",
    [
        "",
        "not-base64",
        "dGVzdC1zaWduYXR1cmU=",
        shopify_signature(body=ORDER_BODY, secret="another secret"),
        shopify_signature(body=ORDER_BODY + b" ", secret="shpss_test"),
        "ünïcode",
    ],
)
def test_a_bad_signature_is_401_and_does_nothing(client, calls, signature):
    ShopifyShopFactory(domain="jon-shop.myshopify.com", webhook_secret="shpss_test")

    response = client.post(
        ORDERS,
        ORDER_BODY,
        content_type="application/json",
        headers={"X-Shopify-Hmac-Sha256": signature, "X-Shopify-Event-Id": "evt-1"},
    )

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
    assert calls == []
    assert not WebhookDelivery.objects.exists()


def test_a_tampered_body_is_401(client, shop, calls):
    signature = shopify_signature(body=ORDER_BODY, secret=shop.webhook_secret)
    tampered = ORDER_BODY.replace(b'"89.99"', b'"8999.99"')

    response = deliver(client, ORDERS, tampered, secret="", signature=signature)

    assert response.status_code == 401
    assert calls == []


def test_the_secret_of_another_shop_does_not_verify_for_this_domain(client, shop, calls):
    other = ShopifyShopFactory()

    response = deliver(client, ORDERS, ORDER_BODY, secret=other.webhook_secret)

    assert response.status_code == 401


def test_without_a_domain_header_any_active_shop_may_have_signed(client, shop, calls):
    ShopifyShopFactory()

    response = deliver(client, ORDERS, ORDER_BODY, secret=shop.webhook_secret, domain=None)

    assert response.status_code == 200
    assert calls[0][0] == shop


def test_an_inactive_shop_is_refused(client, calls):
    shop = ShopifyShopFactory(domain="jon-shop.myshopify.com", is_active=False)

    response = deliver(client, ORDERS, ORDER_BODY, secret=shop.webhook_secret)

    assert response.status_code == 401


def test_the_environment_secret_connects_a_shop(client, settings, calls):
    settings.SHOPIFY_WEBHOOK_SECRET = "env-secret"

    response = deliver(client, ORDERS, ORDER_BODY, secret="env-secret")
    again = deliver(client, ORDERS, ORDER_BODY, secret="env-secret", event_id="evt-2")

    assert (response.status_code, again.status_code) == (200, 200)
    shop = ShopifyShop.objects.get()
    assert (shop.domain, shop.name, shop.webhook_secret) == (
        "jon-shop.myshopify.com",
        "jon-shop.myshopify.com",
        "",
    )
    assert [got_shop for got_shop, _payload in calls] == [shop, shop]


def test_the_environment_secret_does_not_override_a_shop_configured_in_the_admin(
    client, settings, shop, calls
):
    settings.SHOPIFY_WEBHOOK_SECRET = "env-secret"

    response = deliver(client, ORDERS, ORDER_BODY, secret="env-secret")

    assert response.status_code == 401


def test_no_secret_configured_refuses_everything(client, settings, calls):
    settings.SHOPIFY_WEBHOOK_SECRET = ""

    response = deliver(client, ORDERS, ORDER_BODY, secret="")

    assert response.status_code == 401
    assert not ShopifyShop.objects.exists()


def test_the_same_event_delivered_twice_is_applied_once(client, shop, calls):
    first = deliver(client, ORDERS, ORDER_BODY, secret=shop.webhook_secret, webhook_id="wh-1")
    second = deliver(client, ORDERS, ORDER_BODY, secret=shop.webhook_secret, webhook_id="wh-2")

    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json() == {"status": "duplicate"}
    assert len(calls) == 1
    assert WebhookDelivery.objects.count() == 1


def test_different_events_are_each_applied(client, shop, calls):
    deliver(client, ORDERS, ORDER_BODY, secret=shop.webhook_secret, event_id="evt-1")
    deliver(client, ORDERS, ORDER_BODY, secret=shop.webhook_secret, event_id="evt-2")

    assert len(calls) == 2


def test_without_an_event_id_the_webhook_id_deduplicates(client, shop, calls):
    for _ in range(2):
        deliver(client, ORDERS, ORDER_BODY, secret=shop.webhook_secret, event_id=None)

    assert len(calls) == 1
    assert WebhookDelivery.objects.get().event_id == "wh-1"


def test_an_event_with_no_id_at_all_is_400(client, shop, calls):
    response = deliver(
        client, ORDERS, ORDER_BODY, secret=shop.webhook_secret, event_id=None, webhook_id=None
    )

    assert response.status_code == 400
    assert "X-Shopify-Event-Id" in response.json()["error"]["fields"]
    assert calls == []


def test_a_handler_failure_records_nothing_so_shopify_retries(client, shop, monkeypatch):
    def failing(*, store, payload):
        WebhookDelivery.objects.create(store=store, topic="side effect", event_id="x")
        raise IntegrityError("the ledger said no")

    use_handler(monkeypatch, TOPIC_ORDERS_CREATE, failing)
    with pytest.raises(IntegrityError):
        deliver(client, ORDERS, ORDER_BODY, secret=shop.webhook_secret)

    assert not WebhookDelivery.objects.exists()


def test_a_refusal_for_good_is_undone_kept_as_refused_and_answered_200(client, shop, monkeypatch):
    def refusing(*, store, payload):
        WebhookDelivery.objects.create(store=store, topic="side effect", event_id="x")
        raise Conflict("Order already reported with other contents.")

    use_handler(monkeypatch, TOPIC_ORDERS_CREATE, refusing)
    response = deliver(client, ORDERS, ORDER_BODY, secret=shop.webhook_secret)

    assert response.status_code == 200  # else Shopify retries for two days, then unsubscribes
    assert response.json()["status"] == "refused"
    assert response.json()["error"]["code"] == "conflict"
    delivery = WebhookDelivery.objects.get()  # the handler's own write is undone
    assert (delivery.status, delivery.reason, delivery.order_id) == (
        "refused",
        "conflict",
        "820982911946154508",
    )
    assert "other contents" in delivery.message
    again = deliver(client, ORDERS, ORDER_BODY, secret=shop.webhook_secret, webhook_id="wh-2")
    assert again.json() == {"status": "duplicate"}


def test_a_handler_saying_not_yet_is_answered_409_and_recorded_nowhere(client, shop, monkeypatch):
    def not_yet(*, store, payload):
        raise RetryLater("Later.", code="order_not_received")

    use_handler(monkeypatch, TOPIC_ORDERS_CREATE, not_yet)
    response = deliver(client, ORDERS, ORDER_BODY, secret=shop.webhook_secret)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "order_not_received"
    assert not WebhookDelivery.objects.exists()


def test_a_handler_that_applies_nothing_records_why(client, shop, monkeypatch):
    use_handler(monkeypatch, TOPIC_ORDERS_CREATE, lambda **kwargs: "test")

    response = deliver(client, ORDERS, ORDER_BODY, secret=shop.webhook_secret)

    assert response.json() == {"status": "ignored"}
    assert WebhookDelivery.objects.get().reason == "test"


@pytest.mark.parametrize(
    ("triggered_at", "code"),
    [("2020-01-01T00:00:00Z", "too_old"), ("yesterday", "too_old")],
)
def test_an_event_triggered_over_a_day_ago_is_refused(client, shop, calls, triggered_at, code):
    response = deliver(
        client, ORDERS, ORDER_BODY, secret=shop.webhook_secret, triggered_at=triggered_at
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert calls == []
    assert not WebhookDelivery.objects.exists()


def test_an_event_of_23_hours_ago_is_taken(client, shop, calls):
    moment = (timezone.now() - dt.timedelta(hours=23)).isoformat()
    response = deliver(client, ORDERS, ORDER_BODY, secret=shop.webhook_secret, triggered_at=moment)

    assert response.json() == {"status": "accepted"}


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        (b"{not json", "invalid", "body"),
        (b"[]", "invalid", "body"),
        (json.dumps({"id": 1}).encode(), "invalid", "currency"),
        (ORDER_BODY.replace(b'"USD"', b'"XXX"', 1), "unsupported_currency", "currency"),
    ],
)
def test_a_signed_but_malformed_payload_is_kept_as_refused(client, shop, calls, body, code, field):
    response = deliver(client, ORDERS, body, secret=shop.webhook_secret)

    assert response.status_code == 200
    assert response.json()["error"]["code"] == code
    assert field in response.json()["error"]["fields"]
    assert calls == []
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.reason) == ("refused", code)


def test_a_topic_sent_to_the_wrong_address_is_refused(client, shop, calls):
    response = deliver(
        client, ORDERS, REFUND_BODY, secret=shop.webhook_secret, topic=TOPIC_REFUNDS_CREATE
    )

    assert response.status_code == 400
    assert calls == []


def test_only_post_is_allowed(client):
    response = client.get(ORDERS)

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_register_refuses_an_unknown_topic():
    with pytest.raises(ValueError, match="orders/updated"):
        register_shopify_handler("orders/updated", lambda **kwargs: None)
