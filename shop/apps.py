from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "shop"

    def ready(self) -> None:
        from members.portal import register_export

        from .selectors import orders_export
        from .services import products_from_shopify
        from .shopify import TOPIC_PRODUCTS_CREATE, TOPIC_PRODUCTS_UPDATE
        from .webhooks import register_shopify_handler

        register_export("orders", orders_export)
        register_shopify_handler(TOPIC_PRODUCTS_CREATE, products_from_shopify)
        register_shopify_handler(TOPIC_PRODUCTS_UPDATE, products_from_shopify)
