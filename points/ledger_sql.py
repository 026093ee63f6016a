"""The ledger's plain SQL: the statements of every service's write, and the
set-based work of the nightly jobs.

The services (points/services.py) run their statements here rather than through
ORM querysets: compiling a query and building its model instances cost 0.2-0.3 ms
of Python each, so that earn and redeem, seven and twelve ORM queries, ran at
0.17-0.20 and 0.06-0.13 of the rate of the same transaction in plain SQL from 4
threads (`python -m bench ledger_writes`, threads sharing the GIL). Here an earn
is four statements (lock, entry, balance, lot) and a redemption six (lock, lots,
entry, balance, lots taken, lot uses), at 0.57-0.62 and 0.47-0.49 of that rate.
The rules stay in the services; these functions only read and write rows.

On PostgreSQL the services' statements go through `together`: bound by the
server and prepared once they have run a few times on a connection (the server
no longer parses and plans them each time), and those that need nothing from
each other sent in one round trip: an earn is three (the lock and its key
looked up; the entry; the balance and the lot), a redemption three (the lock,
the key and the lots; the entry; the balance, the lots taken and their uses);
an order's points and each of its campaigns', one (`write_credits`, fresh: the
lots name their entries by key, which a new order's keys allow). Earn and
redeem once sent their entry with the rest too, found unused under the lock:
no faster at 4 threads (redeem 0.54 and 0.535 of plain SQL), so not kept. On
a machine whose cores the server shares, every round trip is a wait for both
to be scheduled again.

The nightly jobs are plain SQL because the ORM cannot say INSERT ... SELECT or an
UPDATE whose value is a correlated subquery: a chunk of members is a handful of
statements, not a query per member.

Every statement is portable between PostgreSQL and SQLite. The nightly ones are
guarded by the state they expect (lots still due), and a night's entries are
inserted with the conflicts on their key ignored, RETURNING the members written
for: only those members' balances and lots are then changed, so a retry, a re-run
with other chunk bounds or a second run at once does nothing twice. The balance
rows are locked in member order before anything is written, as every service does.
"""

import datetime as dt
import functools
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import psycopg
from django.conf import settings
from django.db import connection
from django.db.backends.utils import CursorWrapper
from django.db.models import F, Model, Q
from django.utils import timezone

from members.models import Member

from .models import Account, Entry, Lot, LotUse

ENTRY = Entry._meta.db_table
LOT = Lot._meta.db_table
LOTUSE = LotUse._meta.db_table
ACCOUNT = Account._meta.db_table
MEMBER = Member._meta.db_table
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
    and a lot use per expired lot. Returns the number of members touched.

    A frozen member's points do not expire: their lots are left as they are, and
    when the member leaves that status the lots' expiry moves on by the days the
    freeze lasted (lots_unfreeze), so the clock resumes where it stopped."""
    frozen = Member.objects.filter(status=Member.Status.FROZEN).values("pk")
    due = Q(
        member_id__gte=first_id,
        member_id__lte=last_id,
        pending=False,
        remaining__gt=0,
        expires_at__lte=cutoff,
    ) & ~Q(member_id__in=frozen)
    if not locked and not _lock(due):
        return 0
    now, key = _ts(timezone.now()), expiry_key(cutoff)
    # A frozen member's lots are left alone (the table name is the model's).
    frozen_sql = f"l.member_id NOT IN (SELECT id FROM {MEMBER} WHERE status = %s)"  # noqa: S608
    due_sql = (
        "l.member_id BETWEEN %s AND %s AND l.pending = %s AND l.remaining > 0 "
        "AND l.expires_at <= %s AND " + frozen_sql
    )
    due_params: list[Any] = [first_id, last_id, False, _ts(cutoff), Member.Status.FROZEN]
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
            WHERE 1 = 1  -- without a WHERE, SQLite reads ON CONFLICT as the join's
            ON CONFLICT (member_id, idempotency_key) DO NOTHING
            RETURNING member_id
            """,  # noqa: S608 - table names are the models', values are parameters
            [key, NIGHTLY_FINGERPRINT, _ts(cutoff), now, *due_params],
        )
        members = _written(cursor)
        if not members:
            return 0
        cursor.execute(
            f"""
            INSERT INTO {LOTUSE} (entry_id, lot_id, points)
            SELECT e.id, l.id, l.remaining FROM {LOT} l
            JOIN {ENTRY} e ON e.member_id = l.member_id AND e.idempotency_key = %s
            WHERE {due_sql} AND {_member_in("l.member_id", members)}
            """,  # noqa: S608
            [key, *due_params],
        )
        _apply_entries_to_accounts(cursor, key, members, now)
        cursor.execute(
            f"UPDATE {LOT} SET remaining = 0 WHERE id IN "  # noqa: S608
            f"(SELECT l.id FROM {LOT} l WHERE {due_sql} "
            f"AND {_member_in('l.member_id', members)})",
            due_params,
        )
    return len(members)


def lots_unfreeze(*, member_id: int, days: int) -> int:
    """Move the expiry of a member's live lots (points left, or still pending) on
    by `days`: the days they were frozen, during which nothing expired. One
    statement; the caller holds the member's balance row. Returns the lots moved.
    Whole days keep each expiry on the programme's midnight (in a time zone
    without daylight saving, as the default Asia/Shanghai)."""
    if days <= 0:
        return 0
    return Lot.objects.filter(Q(remaining__gt=0) | Q(pending=True), member_id=member_id).update(
        expires_at=F("expires_at") + dt.timedelta(days=days)
    )


def _written(cursor: CursorWrapper) -> list[int]:
    """The members an INSERT ... RETURNING member_id just wrote an entry for."""
    return [int(member_id) for (member_id,) in cursor.fetchall()]


def _member_in(column: str, members: list[int]) -> str:
    """`column` among `members`: integers read from the database, written into the
    statement as literals, so that no chunk size meets a limit on parameters."""
    return f"{column} IN ({', '.join(map(str, members))})"


def _apply_entries_to_accounts(
    cursor: CursorWrapper, key: str, members: list[int], now: Any
) -> None:
    """Move the balance rows of `members`, and only theirs, by the entry `key`
    that this very statement's INSERT ... RETURNING wrote for each. An entry with
    the key that an earlier run (or a concurrent one) wrote is never applied
    again: its member is not among those returned."""
    cursor.execute(
        f"""
        UPDATE {ACCOUNT} SET
            available = available + (SELECT e.amount FROM {ENTRY} e
                WHERE e.member_id = {ACCOUNT}.member_id AND e.idempotency_key = %s),
            pending = pending + (SELECT e.pending_change FROM {ENTRY} e
                WHERE e.member_id = {ACCOUNT}.member_id AND e.idempotency_key = %s),
            updated_at = %s
        WHERE {_member_in("member_id", members)}
        """,  # noqa: S608
        [key, key, now],
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
            ON CONFLICT (member_id, idempotency_key) DO NOTHING
            RETURNING member_id
            """,  # noqa: S608
            [key, NIGHTLY_FINGERPRINT, _ts(cutoff), now, *due_params],
        )
        released = _written(cursor)
        # Due lots left with no points (a refund took them while pending) release
        # nothing: they only stop being pending.
        cursor.execute(
            f"UPDATE {LOT} SET pending = %s WHERE id IN "  # noqa: S608
            f"(SELECT l.id FROM {LOT} l WHERE {due_sql} AND l.remaining = 0)",
            [False, *due_params],
        )
        if not released:
            return 0, in_debt
        _apply_entries_to_accounts(cursor, key, released, now)
        cursor.execute(
            f"""
            UPDATE {LOT} SET pending = %s,
                released_by_id = (SELECT e.id FROM {ENTRY} e
                    WHERE e.member_id = {LOT}.member_id AND e.idempotency_key = %s)
            WHERE id IN (SELECT l.id FROM {LOT} l
                         WHERE {due_sql} AND {_member_in("l.member_id", released)})
            """,  # noqa: S608
            [False, key, *due_params],
        )
    return len(released), in_debt


# -- the services' statements --

# The balance row and what the services check of the member, in one statement;
# `lock_balance` adds FOR UPDATE OF a where the database has row locks (SQLite
# locks the whole database for a write instead).
_LOCK_BALANCE = f"""
    SELECT a.available, a.pending, a.lifetime_earned, m.number, m.status,
        m.email_verified_at IS NOT NULL
    FROM {ACCOUNT} a JOIN {MEMBER} m ON m.id = a.member_id
    WHERE a.member_id = %s
"""  # noqa: S608 - table names are the models', values are parameters
_ENTRY_WITH_KEY = f"SELECT 1 FROM {ENTRY} WHERE member_id = %s AND idempotency_key = %s"  # noqa: S608
# The points a member has earned (available or pending) since a moment.
_EARNED_SINCE = f"""
    SELECT COALESCE(SUM(amount + pending_change), 0) FROM {ENTRY}
    WHERE member_id = %s AND kind IN (%s, %s) AND created_at >= %s
"""  # noqa: S608
_UPDATE_BALANCE = f"""
    UPDATE {ACCOUNT} SET available = %s, pending = %s, lifetime_earned = %s, updated_at = %s
    WHERE member_id = %s
"""  # noqa: S608
# Entries, one row each, none written over an entry with its key: the ids of
# those inserted, with their keys (PostgreSQL does not promise RETURNING's order).
# (WHERE true: without it SQLite would read ON CONFLICT as the join's ON.)
_ENTRY_COLUMNS = (
    "member_id",
    "kind",
    "amount",
    "pending_change",
    "balance_after",
    "pending_after",
    "source_type",
    "source_ref",
    "idempotency_key",
    "fingerprint",
    "actor_id",
    "reason",
    "reverses_id",
    "effective_at",
    "created_at",
)
_INSERT_ENTRIES = f"""
    INSERT INTO {ENTRY} ({", ".join(_ENTRY_COLUMNS)})
    SELECT * FROM {{rows}} WHERE true
    ON CONFLICT (member_id, idempotency_key) DO NOTHING
    RETURNING id, idempotency_key
"""  # noqa: S608
# Lots, each naming its entry by the entry's key (v.column1).
_LOT_COLUMNS = ("original", "remaining", "pending", "available_from", "expires_at")
_INSERT_LOTS = f"""
    INSERT INTO {LOT} (member_id, entry_id, {", ".join(_LOT_COLUMNS)})
    SELECT e.member_id, e.id, v.column2, v.column3, v.column4, v.column5, v.column6
    FROM {{rows}} JOIN {ENTRY} e ON e.member_id = %s AND e.idempotency_key = v.column1
"""  # noqa: S608
# The available lots that expire first, just as many as give `points` (every lot
# has a point left, so no more than `points` of them), in spending order: each
# with the points of the lots before it below `points`.
_SPENDABLE_LOTS = f"""
    SELECT id, remaining, expires_at <= %s FROM (
        SELECT id, remaining, expires_at,
            SUM(remaining) OVER (ORDER BY expires_at, id) - remaining AS before
        FROM (SELECT id, remaining, expires_at FROM {LOT}
              WHERE member_id = %s AND pending = %s AND remaining > 0
              ORDER BY expires_at, id LIMIT %s) first_lots
    ) running
    WHERE before < %s
    ORDER BY expires_at, id
"""  # noqa: S608
# Points taken from several lots, (lot id, points) each: one UPDATE and one INSERT
# of the uses, whatever the number of lots.
_TAKE_FROM_LOTS = f"""
    UPDATE {LOT} SET remaining = remaining - v.column2 FROM {{rows}} WHERE {LOT}.id = v.column1
"""  # noqa: S608
_INSERT_LOT_USES = f"""
    INSERT INTO {LOTUSE} (entry_id, lot_id, points) SELECT %s, v.column1, v.column2 FROM {{rows}}
"""  # noqa: S608


@dataclass
class Balance:
    """A member's balance row, locked, with what the services check of the member."""

    member_id: int
    available: int
    pending: int
    lifetime_earned: int
    member_number: str
    member_status: str
    email_verified: bool

    @classmethod
    def of(cls, account: Account) -> "Balance":
        return cls(
            member_id=account.member_id,
            available=account.available,
            pending=account.pending,
            lifetime_earned=account.lifetime_earned,
            member_number=account.member.number,
            member_status=account.member.status,
            email_verified=account.member.email_verified_at is not None,
        )


class SpendableLot(NamedTuple):
    id: int
    remaining: int
    due: bool  # expired by the cutoff asked about, not yet taken by the expiry


Statement = tuple[str, Sequence[Any] | Mapping[str, Any]]  # parameters by position or name


@functools.cache
def column_types(model: type[Model], columns: tuple[str, ...]) -> tuple[str, ...]:
    """The database types of the model's `columns`, for `rows_table`."""
    fields = {field.column: field for field in model._meta.concrete_fields}
    return tuple(str(fields[column].db_type(connection)) for column in columns)


def rows_table(types: Sequence[str], rows: Sequence[Sequence[Any]]) -> tuple[str, list[Any]]:
    """`rows` (at least one) as a table `v` to select from, with the columns
    column1, column2, ... (as VALUES names them) of the database types `types`.

    On PostgreSQL each column is one array parameter, unnested: the statement's
    text and parameter types are the same whatever the number of rows, so that
    psycopg converts the text once (it caches none with more than 50 parameters,
    which an order's entries passed as soon as three campaigns applied, and then
    parsed the text again on every order) and the server prepares it once, not
    once per number of rows. SQLite gets a VALUES list."""
    if connection.vendor == "postgresql":
        names = ", ".join(f"column{n}" for n in range(1, len(types) + 1))
        arrays = ", ".join(f"%s::{db_type}[]" for db_type in types)
        return f"unnest({arrays}) AS v({names})", [list(c) for c in zip(*rows, strict=True)]
    row = f"({', '.join(['%s'] * len(types))})"
    return f"(VALUES {', '.join([row] * len(rows))}) AS v", [value for r in rows for value in r]


def together(cursor: CursorWrapper, statements: list[Statement]) -> list[list[tuple[Any, ...]]]:
    """Run `statements` one after the other (each after the one before it has,
    with its own snapshot) and return the rows of each.

    On PostgreSQL they are sent together in psycopg's pipeline mode, in one round
    trip to the server, with their parameters bound by the server, so that
    psycopg prepares each statement on the connection once it has run a few times
    (DATABASE_PREPARE_THRESHOLD, set on the connection while they run) and the
    server no longer parses and plans it every time, which halves the server's
    work for an order (Django's own cursors bind parameters on the client: every
    statement is parsed and planned). SQLite runs them one by one."""
    if connection.vendor != "postgresql":
        results = []
        for sql, params in statements:
            cursor.execute(sql, params)
            results.append(cursor.fetchall() if cursor.description else [])
        return results
    pg = connection.connection
    # The threshold is on only here: set on the connection, psycopg would also
    # keep the text of every other query it runs (Django's, with their values
    # in it) to count it, which holds large batch statements in memory.
    pg.prepare_threshold = settings.DATABASE_PREPARE_THRESHOLD or None
    try:
        with connection.wrap_database_errors:
            cursors = [psycopg.Cursor(pg) for _ in statements]
            if len(statements) == 1:
                cursors[0].execute(*statements[0])
            else:
                with pg.pipeline():
                    for server_cursor, (sql, params) in zip(cursors, statements, strict=True):
                        server_cursor.execute(sql, params)
            return [c.fetchall() if c.description else [] for c in cursors]
    finally:
        pg.prepare_threshold = None


def _lock_statement(member_id: int) -> Statement:
    sql = _LOCK_BALANCE
    if connection.features.has_select_for_update_of:
        sql += " FOR UPDATE OF a"
    return sql, [member_id]


def _balance(member_id: int, rows: list[tuple[Any, ...]]) -> Balance | None:
    if not rows:
        return None
    available, pending, lifetime_earned, number, status, verified = rows[0]
    return Balance(member_id, available, pending, lifetime_earned, number, status, bool(verified))


def _spendable_statement(member_id: int, points: int, cutoff: dt.datetime) -> Statement:
    return _SPENDABLE_LOTS, [_ts(cutoff), member_id, False, points, points]


def _spendable(rows: list[tuple[Any, ...]]) -> list[SpendableLot]:
    return [SpendableLot(lot_id, left, bool(due)) for lot_id, left, due in rows]


def lock_balance(cursor: CursorWrapper, member_id: int) -> Balance | None:
    """The member's balance row, locked until the transaction ends (the member row
    is read, not locked); None when the member has none yet."""
    (rows,) = together(cursor, [_lock_statement(member_id)])
    return _balance(member_id, rows)


def lock_balance_for(
    cursor: CursorWrapper, member_id: int, key: str
) -> tuple[Balance | None, bool]:
    """`lock_balance`, and whether the member has an entry with `key` (read once
    the lock is held: no other transaction can write one meanwhile), in one
    round trip."""
    locked, used = together(cursor, [_lock_statement(member_id), _key_statement(member_id, key)])
    return _balance(member_id, locked), bool(used)


def lock_balance_with_lots(
    cursor: CursorWrapper, member_id: int, points: int, *, cutoff: dt.datetime, key: str
) -> tuple[Balance | None, list[SpendableLot], bool]:
    """`lock_balance_for` and then `spendable_lots`, in one round trip: the lots
    are read once the lock is held, so no other transaction changes them
    meanwhile."""
    locked, used, lots = together(
        cursor,
        [
            _lock_statement(member_id),
            _key_statement(member_id, key),
            _spendable_statement(member_id, points, cutoff),
        ],
    )
    return _balance(member_id, locked), _spendable(lots), bool(used)


def _key_statement(member_id: int, key: str) -> Statement:
    return _ENTRY_WITH_KEY, [member_id, key]


def has_entry_with_key(cursor: CursorWrapper, member_id: int, key: str) -> bool:
    cursor.execute(_ENTRY_WITH_KEY, [member_id, key])
    return cursor.fetchone() is not None


@dataclass(frozen=True)
class NewLot:
    """The lot an entry credits its points to."""

    original: int
    remaining: int  # less than original where the points repaid a debt
    pending: bool
    available_from: dt.datetime
    expires_at: dt.datetime


def write_entry(
    cursor: CursorWrapper,
    balance: Balance,
    *,
    now: dt.datetime,
    entry: Entry,
    taking: list[tuple[int, int]] | None = None,
    lot: NewLot | None = None,
) -> int | None:
    """Insert `entry` and write `balance` (already moved by it); the entry's id.
    None, with nothing written, when the member has an entry with its key.
    `taking`: (lot id, points) to take from lots as `take_from_lots` does, and
    `lot`: the lot the entry credits, in the same round trip as the balance."""
    (inserted,) = together(cursor, [_insert_entries_statement([entry])])
    if not inserted:
        return None
    entry_id: int = inserted[0][0]
    statements = [_balance_statement(balance, now), *_take_statements(entry_id, taking or [])]
    if lot is not None:
        statements.append(_lots_statement(balance.member_id, [(entry.idempotency_key, lot)]))
    together(cursor, statements)
    return entry_id


def write_credits(
    cursor: CursorWrapper,
    balance: Balance,
    *,
    now: dt.datetime,
    credits: list[tuple[Entry, NewLot]],
    also: list[Statement],
    fresh: bool = False,
) -> tuple[dict[str, int], list[list[tuple[Any, ...]]]]:
    """Insert several entries of one member, each crediting its lot, and write
    `balance` (already moved by them all), in two round trips whatever their
    number: the entries (one INSERT), then the balance, the lots (one INSERT)
    and the caller's statements `also`, which need nothing from the entries.
    Returns the ids of the entries inserted by key, and the rows of each of
    `also`: when the member has an entry with one of the keys, those ids are all
    that is inserted, and the balance, the lots and `also` are not written (no
    rows).

    `fresh`: the caller knows that no entry has any of the keys (they name a row
    it inserted in this transaction, as an order's do): then the entries go in
    the same round trip too, each lot naming its entry by its key, and a key
    found used is an error (the caller's transaction is to be rolled back)."""
    insert = _insert_entries_statement([e for e, _lot in credits])
    lots = _lots_statement(balance.member_id, [(e.idempotency_key, lot) for e, lot in credits])
    if fresh:
        inserted, _balance, _lots, *also_rows = together(
            cursor, [insert, _balance_statement(balance, now), lots, *also]
        )
        if len(inserted) < len(credits):
            raise AssertionError(f"member {balance.member_id} has an entry with a fresh key")
        return {key: entry_id for entry_id, key in inserted}, also_rows
    (inserted,) = together(cursor, [insert])
    ids = {key: entry_id for entry_id, key in inserted}
    if len(ids) < len(credits):
        return ids, []
    _balance, _lots, *also_rows = together(cursor, [_balance_statement(balance, now), lots, *also])
    return ids, also_rows


def earned_since_statement(member_id: int, since: dt.datetime) -> Statement:
    """The points the member has earned since `since`: one row of one number."""
    return _EARNED_SINCE, [member_id, Entry.Kind.EARN, Entry.Kind.PENDING, _ts(since)]


def earned(rows: list[tuple[Any, ...]]) -> int:
    """What `earned_since_statement` read (PostgreSQL sums bigints as numeric)."""
    return int(rows[0][0])


def _insert_entries_statement(entries: list[Entry]) -> Statement:
    rows, params = rows_table(
        column_types(Entry, _ENTRY_COLUMNS),
        [
            (
                entry.member_id,
                entry.kind,
                entry.amount,
                entry.pending_change,
                entry.balance_after,
                entry.pending_after,
                entry.source_type,
                entry.source_ref,
                entry.idempotency_key,
                entry.fingerprint,
                entry.actor_id,
                entry.reason,
                entry.reverses_id,
                _ts(entry.effective_at),
                _ts(entry.created_at),
            )
            for entry in entries
        ],
    )
    return _INSERT_ENTRIES.format(rows=rows), params


def _balance_statement(balance: Balance, now: dt.datetime) -> Statement:
    return (
        _UPDATE_BALANCE,
        [balance.available, balance.pending, balance.lifetime_earned, _ts(now), balance.member_id],
    )


def _lots_statement(member_id: int, lots: list[tuple[str, NewLot]]) -> Statement:
    """Insert (the key of the member's entry, lot) each."""
    rows, params = rows_table(
        column_types(Entry, ("idempotency_key",)) + column_types(Lot, _LOT_COLUMNS),
        [
            (
                key,
                lot.original,
                lot.remaining,
                lot.pending,
                _ts(lot.available_from),
                _ts(lot.expires_at),
            )
            for key, lot in lots
        ],
    )
    return _INSERT_LOTS.format(rows=rows), [*params, member_id]


def spendable_lots(
    cursor: CursorWrapper, member_id: int, points: int, *, cutoff: dt.datetime
) -> list[SpendableLot]:
    """The member's available lots to take `points` from, those that expire first
    (fewer when the member has fewer points), each saying whether it was due to
    expire by `cutoff`: if any was, it is the first."""
    (rows,) = together(cursor, [_spendable_statement(member_id, points, cutoff)])
    return _spendable(rows)


def take_from_lots(cursor: CursorWrapper, entry_id: int, taken: list[tuple[int, int]]) -> None:
    """Take (lot id, points) from each lot and record each use against the entry,
    in one round trip."""
    together(cursor, _take_statements(entry_id, taken))


def _take_statements(entry_id: int, taken: list[tuple[int, int]]) -> list[Statement]:
    if not taken:
        return []
    rows, params = rows_table(column_types(LotUse, ("lot_id", "points")), taken)
    return [(_TAKE_FROM_LOTS.format(rows=rows), params), _lot_uses_statement(entry_id, taken)]


def insert_lot_uses(cursor: CursorWrapper, entry_id: int, uses: list[tuple[int, int]]) -> None:
    """Record (lot id, points) the entry took from each lot, leaving the lots as
    they are: `take_from_lots` lowers them first, a cancellation's expiry records
    points that came back to their lot and went again at once."""
    together(cursor, [_lot_uses_statement(entry_id, uses)])


def _lot_uses_statement(entry_id: int, uses: list[tuple[int, int]]) -> Statement:
    rows, params = rows_table(column_types(LotUse, ("lot_id", "points")), uses)
    return _INSERT_LOT_USES.format(rows=rows), [entry_id, *params]
