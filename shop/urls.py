from django.urls import path

from . import webhooks

app_name = "shop"

urlpatterns = [
    path(
        f"webhooks/shopify/{address}",
        webhooks.shopify_webhook,
        {"topic": topic},
        name=f"shopify-{address}",
    )
    for topic, address in webhooks.TOPIC_PATHS.items()
]
