"""The points jobs of the night, each run per chunk of member ids by the batch
framework (`batch`), each safe to run twice for the same day."""

import datetime as dt

from django.conf import settings
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from batch.registry import Job, register
from batch.services import program_midnight
from members.models import Member
from notifications.services import message_build, messages_queue
from notifications.webhooks import webhook_events_queue

from .expiry import last_usable_day
from .ledger_sql import release_due_lots, release_key
from .messages import EXPIRING
from .models import ExpiryWarning, Lot
from .services import points_expire_due, points_release

WARNING = ExpiryWarning._meta.db_table
# Rows per INSERT of warnings: four parameters each, well under SQLite's limit
# of 32,766 parameters a statement.
WARNINGS_PER_INSERT = 2000


def release_pending(as_of: dt.date, first_id: int, last_id: int) -> dict[str, int]:
    cutoff = program_midnight(as_of)
    released, in_debt = release_due_lots(first_id=first_id, last_id=last_id, cutoff=cutoff)
    for member in Member.objects.filter(pk__in=in_debt).order_by("pk"):
        if points_release(member=member, cutoff=cutoff, key=release_key(cutoff)):
            released += 1
    return {"members_released": released}


def expire_points(as_of: dt.date, first_id: int, last_id: int) -> dict[str, int]:
    expired = points_expire_due(first_id=first_id, last_id=last_id, cutoff=program_midnight(as_of))
    return {"members_expired": expired}


def warn_expiring(as_of: dt.date, first_id: int, last_id: int) -> dict[str, int]:
    """Tell each member whose points expire within the warning window, once per
    member and expiry day. The warnings are recorded with the chunk, and one
    message per member for those this run recorded is queued in the outbox, sent
    after the chunk commits: a rolled-back chunk sends nothing, and a failed send
    is retried by the outbox, never failing the chunk."""
    start = program_midnight(as_of)
    end = start + dt.timedelta(days=settings.POINTS_EXPIRY_WARNING_DAYS)
    due = (
        Lot.objects.filter(
            member_id__gte=first_id,
            member_id__lte=last_id,
            member__status=Member.Status.ACTIVE,
            pending=False,
            remaining__gt=0,
            expires_at__gt=start,
            expires_at__lte=end,
        )
        .values("member_id", "expires_at")
        .annotate(points=Sum("remaining"))
    )
    candidates = [
        ExpiryWarning(
            member_id=row["member_id"],
            expires_on=last_usable_day(row["expires_at"]),
            points=row["points"],
        )
        for row in due
    ]
    if not candidates:
        return {"members_warned": 0}
    inserted = _warnings_insert(candidates)
    _warnings_queue([warning_id for warning_id, _member_id in inserted])
    return {"members_warned": len({member_id for _warning_id, member_id in inserted})}


def _warnings_insert(warnings: list[ExpiryWarning]) -> list[tuple[int, int]]:
    """Record the warnings not recorded before and return (id, member id) of those
    this call inserted. The unique key (member, day) skips the others, even one a
    concurrent run is inserting at this moment (it waits for that run, then skips),
    so two runs at once never fail on it and never tell a member twice. Plain SQL:
    the ORM's bulk_create cannot return the ids of rows inserted with conflicts
    ignored."""
    inserted: list[tuple[int, int]] = []
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        for start in range(0, len(warnings), WARNINGS_PER_INSERT):
            batch = warnings[start : start + WARNINGS_PER_INSERT]
            cursor.execute(
                f"INSERT INTO {WARNING} (member_id, expires_on, points, created_at) "  # noqa: S608
                f"VALUES {', '.join(['(%s, %s, %s, %s)'] * len(batch))} "
                "ON CONFLICT (member_id, expires_on) DO NOTHING RETURNING id, member_id",
                [
                    value
                    for warning in batch
                    for value in (
                        warning.member_id,
                        connection.ops.adapt_datefield_value(warning.expires_on),
                        warning.points,
                        now,
                    )
                ],
            )
            inserted += cursor.fetchall()
    return inserted


def _warnings_queue(warning_ids: list[int]) -> None:
    """One message per member listing the warnings `warning_ids` recorded, and a
    `points.expiring` webhook event for each."""
    warnings = ExpiryWarning.objects.filter(pk__in=warning_ids).order_by("member_id", "expires_on")
    by_member: dict[tuple[int, str], list[dict[str, object]]] = {}
    for warning in warnings.values("member_id", "member__number", "expires_on", "points"):
        by_member.setdefault((warning["member_id"], warning["member__number"]), []).append(
            {"points": warning["points"], "expires_on": warning["expires_on"].isoformat()}
        )
    if not by_member:
        return
    messages_queue(
        messages=[
            message_build(member_id=member_id, template=EXPIRING, context={"warnings": rows})
            for (member_id, _number), rows in by_member.items()
        ]
    )
    webhook_events_queue(
        event="points.expiring",
        payloads=[
            {
                "member": number,
                "expiring": [{"date": row["expires_on"], "points": row["points"]} for row in rows],
            }
            for (_member_id, number), rows in by_member.items()
        ],
    )


def register_jobs() -> None:
    register(Job("release_pending", 10, release_pending, "pending points become available"))
    register(Job("expire_points", 20, expire_points, "lots past expiry are expired"))
    register(Job("warn_expiring", 30, warn_expiring, "members told of points expiring soon"))
