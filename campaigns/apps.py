from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"

    def ready(self) -> None:
        from shop.shopify import TOPIC_ORDERS_CREATE, TOPIC_REFUNDS_CREATE
        from shop.webhooks import register_shopify_handler

        from .jobs import register_jobs
        from .segments import register_jobs as register_segments
        from .shopify import order_from_shopify, refund_from_shopify

        register_jobs()
        register_segments()

        register_shopify_handler(TOPIC_ORDERS_CREATE, order_from_shopify)
        register_shopify_handler(TOPIC_REFUNDS_CREATE, refund_from_shopify)
