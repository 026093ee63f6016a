"""Thin Celery wrapper: the outbox sender, started after each commit that queues
a message and by beat every minute (CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from .services import outbox_send_due


@shared_task(
    name="notifications.send_outbox",
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=5,
)
def send_outbox() -> dict[str, int]:
    return outbox_send_due()
