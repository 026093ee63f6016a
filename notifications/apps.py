from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from members.portal import NavItem, register_export, register_nav_item
        from members.services import register_closing_hook

        from .push import push_subscriptions_erase
        from .selectors import inbox_unread_count, messages_export
        from .services import messages_erase, quiet_hours

        try:
            quiet_hours(settings.QUIET_HOURS)
        except ValueError as error:
            raise ImproperlyConfigured(str(error)) from None
        register_nav_item(
            NavItem(
                order=70,
                url_name="notifications:inbox",
                label=_("Inbox"),
                count=lambda member: inbox_unread_count(member=member),
            )
        )
        register_export("messages", messages_export)
        register_closing_hook(messages_erase)
        register_closing_hook(push_subscriptions_erase)
