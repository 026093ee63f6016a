from django.apps import AppConfig


class PersonalisationConfig(AppConfig):
    name = "personalisation"

    def ready(self) -> None:
        from members.portal import Panel, register_panel
        from notifications.registry import register_contexts
        from notifications.sendtime import register_activity_hours
        from rewards.selectors import register_rewards_ranker

        from .jobs import register_jobs
        from .portal import for_you_panel
        from .protection import PRICE_PROTECTED, price_protected_contexts
        from .selectors import rewards_rank
        from .tags import behaviour_hours

        register_jobs()
        register_contexts(PRICE_PROTECTED, price_protected_contexts)
        register_rewards_ranker(rewards_rank)
        register_activity_hours(behaviour_hours)
        register_panel(
            Panel(order=40, template="personalisation/for_you.html", context=for_you_panel)
        )
