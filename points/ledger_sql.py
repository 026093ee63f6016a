"""Set-based ledger work for the nightly jobs: a chunk of members is a handful of
statements, not a query per member.

Plain SQL because the ORM cannot say INSERT ... SELECT or an UPDATE whose value
is a correlated subquery; the statements are portable between PostgreSQL and
SQLite. Every statement is guarded by the state it expects (lots still due, the
entry of this very run), so a retry or a second run does nothing twice. The
balance rows are locked in member order before anything is written, as every
service does.
"""

import datetime as dt
import hashlib
from typing import Any

from django.db import connection
from django.db.backends.utils import CursorWrapper
from django.db.models import Q
from django.utils import timezone

from .models import Account, Entry, Lot

ENTRY = Entry._meta.db_table
LOT = Lot._meta.db_table
LOTUSE = "points_lotuse"
ACCOUNT = Account._meta.db_table
NIGHTLY_FINGERPRINT = hashlib.sha256(b"nightly").hexdigest()


def _ts(value: dt.datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def expiry_key(cutoff: dt.datetime) -> str:
    return f"expire:{cutoff.isoformat()}"


def release_key(cutoff: dt.datetime) -> str:
    return f"release:{cutoff.isoformat()}"


def _lock(member_filter: Q) -> list[int]:
    return list(
        Account.objects.select_for_update()
        .filter(member_id__in=Lot.objects.filter(member_filter).values("member_id"))
        .order_by("member_id")
        .values_list("member_id", flat=True)
    )


def expire_due_lots(*, first_id: int, last_id: int, cutoff: dt.datetime, locked: bool) -> int:
    """Expire the lots of members `first_id`..`last_id` whose expiry is at or before
    `cutoff`: one `expire` entry per member, the lots emptied, the balance lowered,
    and a lot use per expired lot. Returns the number of members touched."""
    due = Q(
        member_id__gte=first_id,
        member_id__lte=last_id,
        pending=False,
        remaining__gt=0,
        expires_at__lte=cutoff,
    )
    if not locked and not _lock(due):
        return 0
    now, key = _ts(timezone.now()), expiry_key(cutoff)
    due_sql = (
        "l.member_id BETWEEN %s AND %s AND l.pending = %s AND l.remaining > 0 "
        "AND l.expires_at <= %s"
    )
    due_params: list[Any] = [first_id, last_id, False, _ts(cutoff)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {ENTRY} (member_id, kind, amount, pending_change, balance_after,
                pending_after, source_type, source_ref, idempotency_key, fingerprint, reason,
                effective_at, created_at)
            SELECT a.member_id, 'expire', -d.due, 0, a.available - d.due, a.pending,
                'system', 'expiry', %s, %s, '', %s, %s
            FROM {ACCOUNT} a
            JOIN (SELECT l.member_id, SUM(l.remaining) AS due FROM {LOT} l
                  WHERE {due_sql} GROUP BY l.member_id) d ON d.member_id = a.member_id
            """,  # noqa: S608 - table names are the models', values are parameters
            [key, NIGHTLY_FINGERPRINT, _ts(cutoff), now, *due_params],
        )
        members = cursor.rowcount
        if not members:
            return 0
        cursor.execute(
            f"""
            INSERT INTO {LOTUSE} (entry_id, lot_id, points)
            SELECT e.id, l.id, l.remaining FROM {LOT} l
            JOIN {ENTRY} e ON e.member_id = l.member_id AND e.idempotency_key = %s
            WHERE {due_sql}
            """,  # noqa: S608
            [key, *due_params],
        )
        _apply_entries_to_accounts(cursor, key, first_id, last_id, now)
        cursor.execute(
            f"UPDATE {LOT} SET remaining = 0 WHERE id IN "  # noqa: S608
            f"(SELECT l.id FROM {LOT} l WHERE {due_sql})",
            due_params,
        )
    return members


def _apply_entries_to_accounts(
    cursor: CursorWrapper, key: str, first_id: int, last_id: int, now: Any
) -> None:
    """Move each balance row of the range by the entry `key` just wrote for it."""
    cursor.execute(
        f"""
        UPDATE {ACCOUNT} SET
            available = available + (SELECT e.amount FROM {ENTRY} e
                WHERE e.member_id = {ACCOUNT}.member_id AND e.idempotency_key = %s),
            pending = pending + (SELECT e.pending_change FROM {ENTRY} e
                WHERE e.member_id = {ACCOUNT}.member_id AND e.idempotency_key = %s),
            updated_at = %s
        WHERE member_id IN (SELECT e.member_id FROM {ENTRY} e
            WHERE e.member_id BETWEEN %s AND %s AND e.idempotency_key = %s)
        """,  # noqa: S608
        [key, key, now, first_id, last_id, key],
    )


def release_due_lots(*, first_id: int, last_id: int, cutoff: dt.datetime) -> tuple[int, list[int]]:
    """Make the pending lots due by `cutoff` available for the members of the range
    who are not in debt: one `release` entry per member. Returns the number of
    members released and the ids of members in debt, whose releases repay the
    debt first and are left to the per-member service."""
    due = Q(member_id__gte=first_id, member_id__lte=last_id, pending=True)
    due &= Q(available_from__lte=cutoff)
    locked = _lock(due)
    if not locked:
        return 0, []
    in_debt = list(
        Account.objects.filter(member_id__in=locked, available__lt=0).values_list(
            "member_id", flat=True
        )
    )
    now, key = _ts(timezone.now()), release_key(cutoff)
    due_sql = "l.member_id BETWEEN %s AND %s AND l.pending = %s AND l.available_from <= %s"
    due_params: list[Any] = [first_id, last_id, True, _ts(cutoff)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {ENTRY} (member_id, kind, amount, pending_change, balance_after,
                pending_after, source_type, source_ref, idempotency_key, fingerprint, reason,
                effective_at, created_at)
            SELECT a.member_id, 'release', d.due, -d.due, a.available + d.due,
                a.pending - d.due, 'system', 'release', %s, %s, '', %s, %s
            FROM {ACCOUNT} a
            JOIN (SELECT l.member_id, SUM(l.remaining) AS due FROM {LOT} l
                  WHERE {due_sql} GROUP BY l.member_id HAVING SUM(l.remaining) > 0) d
              ON d.member_id = a.member_id
            WHERE a.available >= 0
            """,  # noqa: S608
            [key, NIGHTLY_FINGERPRINT, _ts(cutoff), now, *due_params],
        )
        released = cursor.rowcount
        _apply_entries_to_accounts(cursor, key, first_id, last_id, now)
        cursor.execute(
            f"""
            UPDATE {LOT} SET pending = %s,
                released_by_id = (SELECT e.id FROM {ENTRY} e
                    WHERE e.member_id = {LOT}.member_id AND e.idempotency_key = %s)
            WHERE id IN (SELECT l.id FROM {LOT} l JOIN {ACCOUNT} a ON a.member_id = l.member_id
                         WHERE {due_sql} AND a.available >= 0)
            """,  # noqa: S608
            [False, key, *due_params],
        )
    return released, in_debt
