from django.apps import AppConfig


class StaffConfig(AppConfig):
    """The staff's tools over every other app: the KPI snapshot and dashboard,
    fraud rules and their review queue, and what a sanction tells the member. It
    reads members, points, tiers, rewards and campaigns, so it is the top layer."""

    name = "staff"

    def ready(self) -> None:
        from members.services import register_activity_hook, register_sanction_hook
        from notifications.registry import register_status_notice

        from .fraud import fraud_on_activity
        from .fraud import register_jobs as register_fraud
        from .kpis import register_jobs as register_kpis
        from .sanctions import SANCTION_NOTICE, sanction_tell

        register_kpis()
        register_fraud()
        register_status_notice(SANCTION_NOTICE)
        register_sanction_hook(sanction_tell)
        register_activity_hook(fraud_on_activity)
