from django.apps import AppConfig


class RewardsConfig(AppConfig):
    name = "rewards"

    def ready(self) -> None:
        from notifications.registry import register_context

        from .jobs import register_jobs
        from .messages import COUPON_ISSUED, coupon_issued_context

        register_jobs()
        register_context(COUPON_ISSUED, coupon_issued_context)
