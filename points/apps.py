from django.apps import AppConfig


class PointsConfig(AppConfig):
    name = "points"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from members.portal import (
            NavItem,
            Panel,
            register_export,
            register_nav_item,
            register_panel,
        )
        from members.services import register_sanction_hook
        from notifications.models import Message
        from notifications.registry import register_channels, register_context

        from .jobs import register_jobs
        from .messages import EXPIRING, expiring_context
        from .selectors import ledger_export
        from .views import dashboard_panel

        register_jobs()
        register_sanction_hook(_sanction_applied)
        register_context(EXPIRING, expiring_context)
        register_channels(EXPIRING, (Message.Channel.SMS, Message.Channel.PUSH))
        register_panel(Panel(order=10, template="points/panel.html", context=dashboard_panel))
        register_nav_item(NavItem(order=10, url_name="points:history", label=_("Points")))
        register_export("ledger", ledger_export)


def _sanction_applied(sanction: object) -> None:
    from .services import points_sanction_apply

    points_sanction_apply(sanction=sanction)  # type: ignore[arg-type]
