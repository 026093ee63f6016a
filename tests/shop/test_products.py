"""The catalogue: PUT /api/v1/products/{sku}, Shopify's products webhooks, the
price history and the admin."""

import json

import pytest
from django.urls import reverse

from shop.models import Product, ProductPrice, WebhookDelivery
from shop.shopify import TOPIC_PRODUCTS_UPDATE
from tests.api import assert_error
from tests.factories import ShopifyShopFactory
from tests.shop.test_shopify import fixture_bytes
from tests.shop.test_webhooks import deliver

pytestmark = pytest.mark.django_db

TEE = {
    "name": "Tea sampler",
    "category": "Tea",
    "price": "129.90",
    "currency": "CNY",
    "tags": ["Green", "gift", "consumable"],
    "active": True,
}


def put(client, sku, body):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.put(f"/api/v1/products/{sku}", data, content_type="application/json")


def test_a_product_is_created_then_updated_and_each_price_is_kept(api_client):
    created = put(api_client, "TEA-1", TEE)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["price"] == "129.90"
    assert body["tags"] == ["consumable", "gift", "green"]

    same_price = put(api_client, "TEA-1", {**TEE, "name": "Tea sampler (new)"})
    cheaper = put(
        api_client, "TEA-1", {**TEE, "name": "Tea sampler (new)", "price": "99.00", "active": False}
    )

    assert (same_price.status_code, cheaper.status_code) == (200, 200)
    product = Product.objects.get(sku="TEA-1")
    assert (product.name, product.price_minor, product.active) == ("Tea sampler (new)", 9900, False)
    assert product.consumable
    history = list(product.prices.order_by("changed_at").values_list("price_minor", flat=True))
    assert history == [12990, 9900]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**TEE, "price": "-1"}, "price"),
        ({**TEE, "price": "1.234"}, "price"),
        ({**TEE, "currency": "usd"}, "currency"),
        ({**TEE, "name": ""}, "name"),
        ({**TEE, "tags": ["a,b"]}, "tags.0"),
        ({**TEE, "colour": "red"}, "colour"),
        ({k: v for k, v in TEE.items() if k != "price"}, "price"),
    ],
)
def test_bad_products_are_refused_and_nothing_is_written(api_client, body, field):
    error = assert_error(put(api_client, "TEA-1", body), 422, "invalid")
    assert field in error["fields"]
    assert not Product.objects.exists()


def test_a_price_in_another_currency_is_refused(api_client):
    assert_error(put(api_client, "TEA-1", {**TEE, "currency": "USD"}), 422, "unsupported_currency")
    assert not ProductPrice.objects.exists()


def test_the_api_needs_a_key(client):
    assert put(client, "TEA-1", TEE).status_code == 401


PRODUCTS = reverse("shop:shopify-products-update")


def test_shopify_products_update_writes_each_variant_once(client):
    store = ShopifyShopFactory(domain="jon-shop.myshopify.com")
    body = fixture_bytes("products_update.json")

    first = deliver(
        client, PRODUCTS, body, secret=store.webhook_secret, topic=TOPIC_PRODUCTS_UPDATE
    )
    again = deliver(
        client, PRODUCTS, body, secret=store.webhook_secret, topic=TOPIC_PRODUCTS_UPDATE
    )

    assert first.json() == {"status": "accepted"}
    assert again.json() == {"status": "duplicate"}
    medium, small = Product.objects.order_by("sku")
    assert (medium.sku, medium.name, medium.price_minor) == (
        "EX-TEE-M",
        "Example T-Shirt - Medium",
        2100,
    )
    assert (small.sku, small.price_minor) == ("EX-TEE-S", 1999)
    assert Product.objects.count() == 2
    assert ProductPrice.objects.count() == 2
    assert Product.objects.get(sku="EX-TEE-S").tags == ["example", "mens", "t-shirt"]
    assert Product.objects.get(sku="EX-TEE-S").category == "Shirts"
    assert WebhookDelivery.objects.get().topic == TOPIC_PRODUCTS_UPDATE


def test_an_archived_product_goes_inactive_and_an_older_update_changes_nothing(client):
    store = ShopifyShopFactory(domain="jon-shop.myshopify.com")
    payload = json.loads(fixture_bytes("products_update.json"))
    newer = {**payload, "status": "archived", "updated_at": "2026-11-21T10:00:00-05:00"}
    older = {
        **payload,
        "updated_at": "2026-11-19T10:00:00-05:00",
        "variants": [{**payload["variants"][0], "price": "5.00"}],
    }

    for n, data in enumerate([newer, older]):
        response = deliver(
            client,
            PRODUCTS,
            json.dumps(data).encode(),
            secret=store.webhook_secret,
            topic=TOPIC_PRODUCTS_UPDATE,
            event_id=f"evt-{n}",
        )
        assert response.json() == {"status": "accepted"}

    small = Product.objects.get(sku="EX-TEE-S")
    assert not small.active
    assert small.price_minor == 1999


def test_a_bad_signature_writes_nothing(client):
    ShopifyShopFactory(domain="jon-shop.myshopify.com")
    body = fixture_bytes("products_update.json")
    response = deliver(client, PRODUCTS, body, secret="wrong", topic=TOPIC_PRODUCTS_UPDATE)
    assert response.status_code == 401
    assert not Product.objects.exists()


def test_the_admin_lists_products_with_their_price_history(admin_client, api_client):
    put(api_client, "TEA-1", TEE)
    put(api_client, "TEA-1", {**TEE, "price": "99.00"})
    product = Product.objects.get()

    listing = admin_client.get(reverse("admin:shop_product_changelist"))
    page = admin_client.get(reverse("admin:shop_product_change", args=[product.pk]))

    assert listing.status_code == 200 and b"TEA-1" in listing.content
    assert page.status_code == 200
    assert b"12990" in page.content and b"9900" in page.content
