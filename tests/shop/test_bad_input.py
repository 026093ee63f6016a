"""Bad input never answers 500: each answers its 4xx and writes nothing."""

import json

import pytest
from django.utils import timezone

from points.models import Entry
from shop.models import Order, WebhookDelivery
from tests.api import assert_error, post
from tests.factories import MemberFactory, ShopifyShopFactory
from tests.shop.test_shopify import fixture_bytes
from tests.shop.test_webhooks import deliver

pytestmark = pytest.mark.django_db


@pytest.fixture
def member():
    return MemberFactory()


def _order(member, **changes):
    body = {
        "order_id": "1001",
        "member": member.number,
        "placed_at": timezone.now().isoformat(),
        "currency": "CNY",
        "total": "100.00",
        "lines": [{"sku": "TEA-1", "quantity": 1, "amount": "100.00"}],
    }
    body.update(changes)
    return body


def _nothing_written():
    return not Order.objects.exists() and not Entry.objects.exists()


def test_a_body_over_the_limit_is_413_too_large_unread(api_client, member, settings):
    settings.API_MAX_BODY_BYTES = 1000
    body = _order(member, lines=[{"sku": "X" * 50, "amount": "1.00"}] * 30)

    response = post(api_client, "/api/v1/orders", body)

    assert_error(response, 413, "too_large")
    assert _nothing_written()


def test_a_webhook_body_over_the_limit_is_413(client, settings):
    settings.API_MAX_BODY_BYTES = 1000
    store = ShopifyShopFactory(domain="jon-shop.myshopify.com")

    response = deliver(
        client,
        "/webhooks/shopify/orders-paid",
        fixture_bytes("orders_create.json"),
        secret=store.webhook_secret,
        topic="orders/paid",
    )

    assert_error(response, 413, "too_large")
    assert not WebhookDelivery.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"lines": [{"quantity": 10**12, "amount": "1.00"}]}, "lines.0.quantity"),
        ({"lines": [{"quantity": 2**63, "amount": "1.00"}]}, "lines.0.quantity"),
        ({"total": "99999999999999999999"}, "total"),
        ({"total": "1" + "0" * 19, "lines": []}, "total"),
        ({"lines": [{"quantity": 1, "amount": "10000000000.01"}]}, "lines.0.amount"),
    ],
)
def test_overflowing_quantities_and_amounts_are_422(api_client, member, changes, field):
    response = post(api_client, "/api/v1/orders", _order(member, **changes))

    error = assert_error(response, 422, "invalid")
    assert field in error["fields"]
    assert _nothing_written()


def test_a_shopify_quantity_that_overflows_is_refused_for_good(client):
    store = ShopifyShopFactory(domain="jon-shop.myshopify.com")
    payload = json.loads(fixture_bytes("orders_create.json"))
    payload["line_items"][0]["quantity"] = 10**20

    response = deliver(
        client,
        "/webhooks/shopify/orders-paid",
        json.dumps(payload).encode(),
        secret=store.webhook_secret,
        topic="orders/paid",
    )

    assert response.status_code == 200
    assert response.json()["error"]["fields"] == {
        "line_items.0.quantity": "must be a whole number from 0 to 1000000"
    }
    assert WebhookDelivery.objects.get().status == "refused"
    assert _nothing_written()


@pytest.mark.parametrize(
    "moment",
    [
        "1969-12-31T23:59:59Z",
        "1970-01-01T00:59:59+01:00",
        "9998-12-31T23:00:00-05:00",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-05:00",
        "9999-01-01T00:00:00Z",
        "10000-01-01T00:00:00Z",
    ],
)
def test_dates_before_1970_or_past_9998_are_422(api_client, member, moment):
    order = post(api_client, "/api/v1/orders", _order(member, placed_at=moment))
    event = post(
        api_client,
        "/api/v1/events",
        {"event_id": "e-1", "member": member.number, "type": "review", "occurred_at": moment},
    )

    assert "placed_at" in assert_error(order, 422, "invalid")["fields"]
    assert "occurred_at" in assert_error(event, 422, "invalid")["fields"]
    assert _nothing_written()


def test_a_date_and_time_without_an_offset_is_422_not_guessed(api_client, member):
    response = post(api_client, "/api/v1/orders", _order(member, placed_at="2026-11-01T10:00:00"))

    assert "placed_at" in assert_error(response, 422, "invalid")["fields"]
    assert _nothing_written()


@pytest.mark.parametrize(
    "query",
    ["cursor=²", "cursor=x", "limit=²", "limit=0", "limit=10**9", "cursor=%00"],
)
def test_bad_query_values_are_400(api_client, member, query):
    response = api_client.get(f"/api/v1/members/{member.number}/transactions?{query}")

    assert_error(response, 400, "invalid")


@pytest.mark.parametrize("query", ["total=²", "total=-1", "member=%00"])
def test_bad_coupon_query_values_are_400(api_client, query):
    response = api_client.get(f"/api/v1/coupons/ANYCODE?{query}")

    assert_error(response, 400, "invalid")


def test_an_unknown_query_parameter_is_400(api_client, member):
    response = api_client.get(f"/api/v1/members/{member.number}/transactions?cursor=0&=0.0")

    assert_error(response, 400, "invalid")
