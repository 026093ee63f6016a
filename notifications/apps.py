from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from .services import quiet_hours

        try:
            quiet_hours(settings.QUIET_HOURS)
        except ValueError as error:
            raise ImproperlyConfigured(str(error)) from None
