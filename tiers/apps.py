from django.apps import AppConfig


class TiersConfig(AppConfig):
    name = "tiers"

    def ready(self) -> None:
        from members.portal import Panel, register_panel

        from .jobs import register_jobs
        from .messages import register_messages
        from .views import dashboard_panel

        register_jobs()
        register_messages()
        register_panel(Panel(order=20, template="tiers/panel.html", context=dashboard_panel))
