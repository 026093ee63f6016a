"""The shop's admin pages: shops, Shopify stores with their secret masked, facts."""

import pytest
from django.urls import reverse

from shop.models import ShopifyShop
from shop.selectors import shop_default
from tests.factories import ShopifyShopFactory, UserFactory

pytestmark = pytest.mark.django_db

SECRET = "shpss_0123456789abcdefwxyz"


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def store():
    return ShopifyShopFactory(webhook_secret=SECRET)


def _form(store, **overrides):
    data = {
        "shop": store.shop_id,
        "name": store.name,
        "domain": store.domain,
        "webhook_secret": "",
        "is_active": "on",
    }
    data.update(overrides)
    return data


def test_the_secret_is_shown_masked_never_in_full(staff_client, store):
    change = staff_client.get(reverse("admin:shop_shopifyshop_change", args=[store.pk]))
    listing = staff_client.get(reverse("admin:shop_shopifyshop_changelist"))

    assert change.status_code == listing.status_code == 200
    assert SECRET not in change.content.decode()
    assert SECRET not in listing.content.decode()
    assert "wxyz" in change.content.decode()


def test_saving_with_the_secret_left_empty_keeps_it(staff_client, store):
    url = reverse("admin:shop_shopifyshop_change", args=[store.pk])
    response = staff_client.post(url, _form(store, name="Renamed"))

    assert response.status_code == 302, response.content
    store.refresh_from_db()
    assert (store.name, store.webhook_secret) == ("Renamed", SECRET)


def test_a_new_secret_replaces_it_and_clear_empties_it(staff_client, store):
    url = reverse("admin:shop_shopifyshop_change", args=[store.pk])

    staff_client.post(url, _form(store, webhook_secret="shpss_new_secret_value"))
    store.refresh_from_db()
    assert store.webhook_secret == "shpss_new_secret_value"

    staff_client.post(url, _form(store, clear_secret="on"))
    store.refresh_from_db()
    assert store.webhook_secret == ""


def test_a_store_is_added_for_a_shop(staff_client):
    response = staff_client.post(
        reverse("admin:shop_shopifyshop_add"),
        {
            "shop": shop_default().pk,
            "name": "Tea",
            "domain": "tea.myshopify.com",
            "webhook_secret": SECRET,
            "is_active": "on",
        },
    )

    assert response.status_code == 302, response.content
    assert ShopifyShop.objects.get(domain="tea.myshopify.com").webhook_secret == SECRET


@pytest.mark.parametrize(
    "name",
    [
        "shop_shop",
        "shop_apikey",
        "shop_shopifyshop",
        "shop_order",
        "shop_refund",
        "shop_webhookdelivery",
    ],
)
def test_every_shop_admin_list_renders(staff_client, name):
    assert staff_client.get(reverse(f"admin:{name}_changelist")).status_code == 200
