from django.urls import path

from . import views, webhooks

app_name = "members"

urlpatterns = [
    path("", views.home, name="home"),
    path("me/", views.dashboard, name="dashboard"),
    path("me/profile/", views.profile, name="profile"),
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
