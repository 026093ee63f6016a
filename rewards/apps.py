from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RewardsConfig(AppConfig):
    name = "rewards"

    def ready(self) -> None:
        from members.portal import NavItem, register_export, register_nav_item
        from notifications.registry import register_contexts
        from points.describe import register_names

        from .jobs import register_jobs
        from .messages import (
            COUPON_ISSUED,
            GIFT_SHIPPED,
            coupon_issued_contexts,
            gift_shipped_contexts,
        )
        from .selectors import coupons_export, draw_plays_export, redemptions_export, reward_names

        register_jobs()
        register_contexts(COUPON_ISSUED, coupon_issued_contexts)
        register_contexts(GIFT_SHIPPED, gift_shipped_contexts)
        register_export("coupons", coupons_export)
        register_export("rewards", redemptions_export)
        register_export("draws", draw_plays_export)
        register_nav_item(NavItem(order=50, url_name="draws:draws", label=_("Draws")))
        register_nav_item(NavItem(order=30, url_name="rewards:rewards", label=_("Rewards")))
        register_nav_item(NavItem(order=40, url_name="rewards:coupons", label=_("Coupons")))
        register_names("reward", reward_names)
