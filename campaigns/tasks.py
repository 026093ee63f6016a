"""Thin Celery wrappers: a broadcast's messages queued in chunks."""

from celery import shared_task

from .broadcasts import broadcast_send


@shared_task(
    name="campaigns.send_broadcast",
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=5,
)
def send_broadcast(broadcast_id: int) -> int:
    return broadcast_send(broadcast_id=broadcast_id)
