from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"

    def ready(self) -> None:
        from allauth.account.signals import user_signed_up

        from shop.shopify import TOPIC_ORDERS_CREATE, TOPIC_REFUNDS_CREATE
        from shop.webhooks import register_shopify_handler

        from .jobs import register_jobs
        from .referrals import register_jobs as register_referrals
        from .segments import register_jobs as register_segments
        from .shopify import order_from_shopify, refund_from_shopify

        register_jobs()
        register_segments()
        register_referrals()

        user_signed_up.connect(_signed_up, dispatch_uid="campaigns.referral_on_signup")
        register_shopify_handler(TOPIC_ORDERS_CREATE, order_from_shopify)
        register_shopify_handler(TOPIC_REFUNDS_CREATE, refund_from_shopify)


def _signed_up(sender: object, request: object, user: object, **kwargs: object) -> None:
    from .referrals import referral_on_signup

    referral_on_signup(request=request, user=user)  # type: ignore[arg-type]
