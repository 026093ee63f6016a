from django.apps import AppConfig


class PersonalisationConfig(AppConfig):
    name = "personalisation"

    def ready(self) -> None:
        from members.portal import Panel, register_panel
        from notifications.registry import register_context
        from notifications.sendtime import register_activity_hours
        from rewards.selectors import register_rewards_ranker

        from .jobs import register_jobs
        from .portal import for_you_panel
        from .protection import PRICE_PROTECTED, price_protected_context
        from .selectors import rewards_rank
        from .tags import behaviour_hours

        register_jobs()
        register_context(PRICE_PROTECTED, price_protected_context)
        register_rewards_ranker(rewards_rank)
        register_activity_hours(behaviour_hours)
        register_panel(
            Panel(order=40, template="personalisation/for_you.html", context=for_you_panel)
        )
