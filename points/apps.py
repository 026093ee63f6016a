from django.apps import AppConfig


class PointsConfig(AppConfig):
    name = "points"

    def ready(self) -> None:
        from members.portal import Panel, register_panel
        from notifications.registry import register_context

        from .jobs import register_jobs
        from .messages import EXPIRING, expiring_context
        from .views import dashboard_panel

        register_jobs()
        register_context(EXPIRING, expiring_context)
        register_panel(Panel(order=10, template="points/panel.html", context=dashboard_panel))
