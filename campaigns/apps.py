from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"

    def ready(self) -> None:
        from allauth.account.signals import email_confirmed, user_signed_up
        from django.utils.translation import gettext_lazy as _

        from members.portal import NavItem, register_export, register_nav_item
        from notifications.registry import register_context, register_contexts
        from points.describe import register_names
        from shop.shopify import (
            TOPIC_ORDERS_CANCELLED,
            TOPIC_ORDERS_CREATE,
            TOPIC_ORDERS_PAID,
            TOPIC_REFUNDS_CREATE,
        )
        from shop.webhooks import register_shopify_handler

        from . import shopify
        from .broadcasts import TEMPLATE, broadcast_contexts
        from .grants import GRANTED, campaign_message_context
        from .jobs import register_jobs
        from .referrals import referrals_export
        from .referrals import register_jobs as register_referrals
        from .segments import register_jobs as register_segments
        from .selectors import campaign_names

        register_jobs()
        register_segments()
        register_referrals()
        register_contexts(TEMPLATE, broadcast_contexts)
        register_context(GRANTED, campaign_message_context)
        register_nav_item(
            NavItem(order=60, url_name="campaigns:referral", label=_("Invite friends"))
        )
        register_export("referrals", referrals_export)
        register_names("campaign", campaign_names)

        user_signed_up.connect(_signed_up, dispatch_uid="campaigns.member_signed_up")
        email_confirmed.connect(_email_confirmed, dispatch_uid="campaigns.signup_bonus")
        register_shopify_handler(TOPIC_ORDERS_CREATE, shopify.order_created_from_shopify)
        register_shopify_handler(TOPIC_ORDERS_PAID, shopify.order_paid_from_shopify)
        register_shopify_handler(TOPIC_ORDERS_CANCELLED, shopify.order_cancelled_from_shopify)
        register_shopify_handler(TOPIC_REFUNDS_CREATE, shopify.refund_from_shopify)


def _signed_up(sender: object, request: object, user: object, **kwargs: object) -> None:
    from .enrolment import member_signed_up

    member_signed_up(request=request, user=user)  # type: ignore[arg-type]


def _email_confirmed(
    sender: object, request: object, email_address: object, **kwargs: object
) -> None:
    from django.utils import timezone

    from members.models import Member

    from .grants import signup_bonus_grant

    member = Member.objects.filter(user_id=email_address.user_id).first()
    if member is not None and email_address.primary:
        signup_bonus_grant(member=member, at=timezone.now())
