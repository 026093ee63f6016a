from django.urls import path

from . import webhooks

app_name = "shop"

urlpatterns = [
    path(
        "webhooks/shopify/orders-create",
        webhooks.shopify_orders_create,
        name="shopify-orders-create",
    ),
    path(
        "webhooks/shopify/refunds-create",
        webhooks.shopify_refunds_create,
        name="shopify-refunds-create",
    ),
]
