from django.apps import AppConfig


class TiersConfig(AppConfig):
    name = "tiers"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save
        from django.utils.translation import gettext_lazy as _

        from members.portal import (
            NavItem,
            Panel,
            register_export,
            register_nav_item,
            register_panel,
        )

        from .jobs import register_jobs
        from .messages import register_messages
        from .models import PaidPlan, Tier
        from .selectors import tier_export, tier_rules_forget
        from .views import dashboard_panel

        # Each process keeps the tiers and plans it read (tier_rules): it forgets
        # them when it saves or deletes one.
        for model in (Tier, PaidPlan):
            post_save.connect(tier_rules_forget, sender=model, dispatch_uid=f"forget-{model}")
            post_delete.connect(tier_rules_forget, sender=model, dispatch_uid=f"forget-{model}-")

        register_jobs()
        register_messages()
        register_panel(Panel(order=20, template="tiers/panel.html", context=dashboard_panel))
        register_nav_item(NavItem(order=20, url_name="tiers:tier", label=_("Tier")))
        register_export("tier", tier_export)
