"""Thin Celery wrappers: tier notices are e-mailed by a worker once the
transaction that decided them has committed."""

from celery import shared_task

from .notices import notices_send, notices_send_range


@shared_task(name="tiers.send_notices")
def send_notices(ids: list[int]) -> int:
    return notices_send(ids=ids)


@shared_task(name="tiers.send_notices_range")
def send_notices_range(first_id: int, last_id: int) -> int:
    return notices_send_range(first_id=first_id, last_id=last_id)
