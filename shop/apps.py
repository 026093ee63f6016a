from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "shop"

    def ready(self) -> None:
        from members.portal import register_export

        from .selectors import orders_export

        register_export("orders", orders_export)
