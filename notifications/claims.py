"""Taking due rows of an outbox (messages, webhook deliveries) for one sender.

Rows another sender holds are skipped (`SKIP LOCKED`), and the ones taken are
leased before anything is sent: their attempt is counted, their next attempt
moved on by the lease, and they are marked with this sender's claim by a guarded
update, so a row is sent by one sender even if two run at once, and a sender that
dies holding rows gives them back when the lease ends."""

import datetime as dt
import uuid
from typing import TypeVar

from django.db import models, transaction
from django.db.models import F, QuerySet

Row = TypeVar("Row", bound=models.Model)


def rows_claim(
    due: QuerySet[Row], *, now: dt.datetime, lease: dt.timedelta, batch: int
) -> QuerySet[Row]:
    """Claim up to `batch` of the `due` rows (oldest next attempt first); returns
    the rows this call claimed, in id order."""
    claim = uuid.uuid4().hex
    with transaction.atomic():
        ids = list(
            due.select_for_update(skip_locked=True)
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:batch]
        )
        due.filter(pk__in=ids).update(
            claim=claim, attempts=F("attempts") + 1, next_attempt_at=now + lease
        )
    return due.model._default_manager.filter(pk__in=ids, claim=claim).order_by("pk")
