"""A ledger at a chosen scale, bulk-loaded with PostgreSQL COPY.

Each member has a user (verified e-mail), a balance row and `lots_per_member`
earned lots; each lot comes from an order (when the `members.Order` model is
there) through an `earn` entry keyed by that order. A fraction of the lots is due
to expire at the cutoff (the programme's midnight that starts `as_of`, expiring
at that midnight or up to a week before, as after a few missed nights); the rest
expire during the following year. The ledger's invariants hold after a load, as
`manage.py ledger_audit` checks them: available = sum of the entries' amounts =
balance_after of the last entry = sum of the remaining of the lots; every lot has
its earn entry; every expiry falls on a programme midnight (`lot_expires_at` of
the earning day); idempotency keys are unique per member.

    python -m bench generate --members 100000 --lots-per-member 10 --due-fraction 0.2

Ids are given explicitly (entry, lot and order i belong together) and the
sequences moved past them. The load is one transaction; as a superuser it skips
the foreign-key triggers (`session_replication_role = replica`), since the rows
are made consistent here, and checks the totals afterwards instead.
"""

import argparse
import datetime as dt
import hashlib
import json
import random
import time
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

import psycopg
from django.apps import apps
from django.conf import settings
from django.db.models import NOT_PROVIDED

from batch.services import program_midnight, program_today
from members.services import REFERRAL_ALPHABET, REFERRAL_LENGTH
from points.expiry import lot_expires_at
from shop.selectors import shop_default

from .database import psycopg_connect, say

TABLES = [
    "members_user",
    "members_member",
    "points_account",
    "points_entry",
    "points_lot",
    "points_lotuse",
    "points_expirywarning",
    "batch_jobrun",
    "batch_jobchunk",
]
FINGERPRINT = hashlib.sha256(b"bench-generated").hexdigest()
NO_LOGIN = "!bench"  # an unusable password hash, as Django writes them: no one logs in
POINTS = (10, 2000)  # points of an earned lot, uniform
DUE_SPREAD_DAYS = 7  # due lots expire at the cutoff or up to this many days before
BATCH_ROWS = 20_000  # rows per COPY write
_REFERRAL_SPACE = len(REFERRAL_ALPHABET) ** REFERRAL_LENGTH
# odd, so id -> code is a bijection modulo the space; near space / golden ratio, so
# consecutive ids get codes far apart
_REFERRAL_MULTIPLIER = 679_477_248_203


@dataclass(frozen=True)
class Loaded:
    members: int
    lots: int
    due_lots: int
    due_points: int
    points: int
    orders: int
    as_of: dt.date
    cutoff: dt.datetime
    seconds: float

    def describe(self) -> str:
        return (
            f"{self.members:,} members, {self.lots:,} lots ({self.due_lots:,} due, "
            f"{self.due_points:,} points), {self.orders:,} orders; loaded in "
            f"{self.seconds:.1f} s"
        )


def referral_code(member_id: int) -> str:
    """Unique per id (a multiplication by an odd number is a bijection modulo a
    power of two) and random-looking."""
    value = member_id * _REFERRAL_MULTIPLIER % _REFERRAL_SPACE
    base = len(REFERRAL_ALPHABET)
    chars = []
    for _ in range(REFERRAL_LENGTH):
        value, digit = divmod(value, base)
        chars.append(REFERRAL_ALPHABET[digit])
    return "".join(chars)


def _ts(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S+00")


class _Calendar:
    """The earning days a lot can come from, with their expiry: `due` days expire
    in the week up to the cutoff, `live` days after it."""

    def __init__(self, as_of: dt.date) -> None:
        self.cutoff = program_midnight(as_of)
        self.days: list[int] = []  # epoch seconds of the day's local midnight
        self.expiry: list[str] = []
        due, live = [], []
        first_due = self.cutoff - dt.timedelta(days=DUE_SPREAD_DAYS)
        for back in range(2 * 366, 0, -1):
            midnight = program_midnight(as_of - dt.timedelta(days=back))
            expires = lot_expires_at(midnight + dt.timedelta(hours=12))
            if expires <= first_due:
                continue
            index = len(self.days)
            self.days.append(int(midnight.timestamp()))
            self.expiry.append(_ts(expires))
            (due if expires <= self.cutoff else live).append(index)
        self.due, self.live = due, live
        self.is_due = [False] * len(self.days)
        for index in due:
            self.is_due[index] = True
        self._stamps: dict[int, str] = {}

    def stamp(self, epoch: int) -> str:
        text = self._stamps.get(epoch)
        if text is None:
            text = self._stamps[epoch] = _ts(dt.datetime.fromtimestamp(epoch, dt.UTC))
        return text


@dataclass
class _Lots:
    """Every lot, in member order and within a member in time order: lot i (and
    its entry and order) has id i + 1; member m's lots are first[m-1]..first[m]-1."""

    first: array  # per member + 1: index of the member's first lot
    day: array  # index into the calendar
    minute: array  # minute of the (local) day the points were earned
    points: array


def _plan(
    *, members: int, lots_per_member: int, hot_lots: int, due_fraction: float, cal: _Calendar
) -> _Lots:
    rng = random.Random(members * 7919 + lots_per_member)
    lots = _Lots(array("q", [0]), array("h"), array("h"), array("i"))
    due, live = cal.due, cal.live
    low, span = POINTS[0], POINTS[1] - POINTS[0] + 1
    draw = rng.random
    for member in range(1, members + 1):
        count = hot_lots if member == 1 and hot_lots else lots_per_member
        mine = []
        for _ in range(count):
            days = due if draw() < due_fraction else live
            mine.append((days[int(draw() * len(days))], 600 + int(draw() * 720)))
        mine.sort()
        for day, minute in mine:
            lots.day.append(day)
            lots.minute.append(minute)
            lots.points.append(low + int(draw() * span))
        lots.first.append(len(lots.day))
    return lots


def _copy_text(value: object) -> str:
    """`value` in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dt.datetime):
        return _ts(value)
    if isinstance(value, dict | list):
        value = json.dumps(value)
    if not isinstance(value, int | str | Decimal | dt.date | UUID):
        raise TypeError(f"no COPY text for {value!r}")
    text = str(value)
    for char, escaped in (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r")):
        text = text.replace(char, escaped)
    return text


def _model_defaults(table: str, columns: str) -> tuple[list[str], str]:
    """The columns of `table` the load does not name but the database would refuse
    empty (NOT NULL, no database default), and their models' defaults as COPY text
    (a tab before each): a column added to a model later, with the default its
    migration needs, does not break the load."""
    model = next(m for m in apps.get_models() if m._meta.db_table == table)
    named = {column.strip() for column in columns.split(",")}
    missing = {
        column: field
        for field in model._meta.concrete_fields
        if (column := field.column)
        and column not in named
        and not field.null
        and field.db_default is NOT_PROVIDED
    }
    for column, field in missing.items():
        if not field.has_default():
            raise TypeError(f"{table}.{column}: no value and no default to load")
    text = "".join(f"\t{_copy_text(field.get_default())}" for field in missing.values())
    return list(missing), text


def copy_rows(cursor: psycopg.Cursor, table: str, columns: str, rows: Iterator[str]) -> int:
    """COPY `rows` into `table`, its secondary indexes dropped meanwhile and built
    again afterwards (several times faster than maintaining them row by row; the
    indexes that back a constraint stay). Columns not named get their model's
    default."""
    started = time.perf_counter()
    defaulted, default_text = _model_defaults(table, columns)
    if defaulted:
        columns = ", ".join([columns, *defaulted])
        rows = (row[:-1] + default_text + "\n" for row in rows)
    indexes = cursor.execute(
        """
        SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        WHERE x.indrelid = %s::regclass
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
        """,
        [table],
    ).fetchall()
    for name, _definition in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    count = 0
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        batch: list[str] = []
        for row in rows:
            batch.append(row)
            if len(batch) == BATCH_ROWS:
                copy.write("".join(batch))
                count += len(batch)
                batch.clear()
        copy.write("".join(batch))
        count += len(batch)
    copied = time.perf_counter()
    for _name, definition in indexes:
        cursor.execute(definition)
    say(
        f"  {table}: {count:,} rows in {copied - started:.1f} s, "
        f"{len(indexes)} indexes in {time.perf_counter() - copied:.1f} s"
        + (f" (defaults: {', '.join(defaulted)})" if defaulted else "")
    )
    return count


def begin_load(
    cursor: psycopg.Cursor, tables: list[str], *, log: Callable[[str], None] = say
) -> None:
    """Start a bulk load in `cursor`'s transaction: the foreign-key triggers
    skipped where allowed (a superuser's), memory for the index builds, and
    `tables` emptied."""
    try:
        cursor.execute("SET session_replication_role = replica")
    except psycopg.errors.InsufficientPrivilege:
        cursor.connection.rollback()
        log("  not a superuser: foreign keys are checked at commit (slower)")
    cursor.execute("SET maintenance_work_mem = '256MB'")
    cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")


def copy_members(
    cursor: psycopg.Cursor, *, members: int, as_of: dt.date, marketing_every: int = 0
) -> None:
    """Users 1..`members` (a verified e-mail, no usable password) and their members
    (same ids, active, joined two years before `as_of`); every
    `marketing_every`-th member consented to marketing e-mail (none when 0)."""
    joined = _ts(program_midnight(as_of - dt.timedelta(days=2 * 366 + 30)))
    verified = _ts(program_midnight(as_of - dt.timedelta(days=2 * 366 + 29)))

    def users() -> Iterator[str]:
        for m in range(1, members + 1):
            yield f"{m}\t{NO_LOGIN}\t\\N\tf\t\t\tf\tt\t{joined}\tm{m}@bench.example\n"

    def member_rows() -> Iterator[str]:
        for m in range(1, members + 1):
            consent = verified if marketing_every and m % marketing_every == 0 else "\\N"
            yield (
                f"{m}\t{m}\tM{m:08d}\t\\N\tactive\t\t\\N\t\\N\t{joined}\t{verified}\t"
                f"{referral_code(m)}\t\t{consent}\t\\N\n"
            )

    copy_rows(
        cursor,
        "members_user",
        "id, password, last_login, is_superuser, first_name, last_name, is_staff, "
        "is_active, date_joined, email",
        users(),
    )
    copy_rows(
        cursor,
        "members_member",
        "id, user_id, number, external_id, status, phone, birthday, birthday_set_at, "
        "joined_at, email_verified_at, referral_code, language, marketing_email_at, "
        "marketing_sms_at",
        member_rows(),
    )


def reset_sequences(cursor: psycopg.Cursor, tables: list[str]) -> None:
    """Move the id sequences of `tables` past the ids loaded."""
    for table in tables:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
        )


def _order_model_ready() -> bool:
    """Orders are loaded when the model exists with the columns written here."""
    try:
        model = apps.get_model("shop", "Order")
    except LookupError:
        return False
    columns = {field.column for field in model._meta.concrete_fields}
    return {
        "order_id",
        "member_id",
        "placed_at",
        "total_minor",
        "fingerprint",
        "shop_id",
    } <= columns


def generate(
    *,
    members: int,
    lots_per_member: int,
    due_fraction: float,
    hot_lots: int = 0,
    orders: bool = True,
    as_of: dt.date | None = None,
    log: Callable[[str], None] = say,
) -> Loaded:
    """Replace whatever the benchmark database holds with a fresh ledger."""
    started = time.perf_counter()
    as_of = as_of or program_today()
    cal = _Calendar(as_of)
    lots = _plan(
        members=members,
        lots_per_member=lots_per_member,
        hot_lots=hot_lots,
        due_fraction=due_fraction,
        cal=cal,
    )
    orders = orders and _order_model_ready()
    currency = getattr(settings, "PROGRAM_CURRENCY", "CNY")
    log(
        f"generating {members:,} members x {lots_per_member} lots, due fraction "
        f"{due_fraction}, as of {as_of}"
    )

    def per_lot() -> Iterator[tuple[int, int, str, int, int]]:
        """(lot id, member id, earned at, points, day index)"""
        day, minute, points, first = lots.day, lots.minute, lots.points, lots.first
        days, stamp = cal.days, cal.stamp
        for m in range(1, members + 1):
            for i in range(first[m - 1], first[m]):
                d = day[i]
                yield i + 1, m, stamp(days[d] + 60 * minute[i]), points[i], d

    shop = shop_default().pk

    def order_rows() -> Iterator[str]:
        for lot_id, m, at, points, _day in per_lot():
            yield (
                f"{lot_id}\tB{lot_id:010d}\t{m}\t{at}\t{currency}\t{points * 100}\t0\t{at}\t"
                f"{FINGERPRINT}\t{shop}\n"
            )

    balances = array("q", [0]) * (members + 1)

    def entry_rows() -> Iterator[str]:
        for lot_id, m, at, points, _day in per_lot():
            balance = balances[m] = balances[m] + points
            ref = f"B{lot_id:010d}"
            yield (
                f"{lot_id}\t{m}\tearn\t{points}\t0\t{balance}\t0\torder\t{ref}\torder:{ref}\t"
                f"{FINGERPRINT}\t\t{at}\t{at}\n"
            )

    def lot_rows() -> Iterator[str]:
        expiry = cal.expiry
        for lot_id, m, at, points, d in per_lot():
            yield f"{lot_id}\t{m}\t{lot_id}\t{points}\t{points}\tf\t{at}\t{expiry[d]}\n"

    def account_rows() -> Iterator[str]:
        now = _ts(dt.datetime.now(dt.UTC))
        for m in range(1, members + 1):
            yield f"{m}\t{balances[m]}\t0\t{balances[m]}\t{now}\n"

    with psycopg_connect() as conn, conn.cursor() as cursor:
        tables = TABLES + (["shop_order"] if orders else [])
        begin_load(cursor, tables, log=log)
        copy_members(cursor, members=members, as_of=as_of)
        order_count = 0
        if orders:
            order_count = copy_rows(
                cursor,
                "shop_order",
                "id, order_id, member_id, placed_at, currency, total_minor, shipping_minor, "
                "created_at, fingerprint, shop_id",
                order_rows(),
            )
        copy_rows(
            cursor,
            "points_entry",
            "id, member_id, kind, amount, pending_change, balance_after, pending_after, "
            "source_type, source_ref, idempotency_key, fingerprint, reason, effective_at, "
            "created_at",
            entry_rows(),
        )
        copy_rows(
            cursor,
            "points_lot",
            "id, member_id, entry_id, original, remaining, pending, available_from, expires_at",
            lot_rows(),
        )
        copy_rows(
            cursor,
            "points_account",
            "member_id, available, pending, lifetime_earned, updated_at",
            account_rows(),
        )
        reset_sequences(
            cursor,
            ["members_user", "members_member", "points_entry", "points_lot"]
            + (["shop_order"] if orders else []),
        )
        conn.commit()
    vacuum_analyze(tables, log=log)
    loaded = _summary(
        members=members,
        orders=order_count,
        as_of=as_of,
        cutoff=cal.cutoff,
        started=started,
    )
    log(f"  {loaded.describe()}")
    return loaded


def vacuum_analyze(tables: list[str], *, log: Callable[[str], None] = say) -> None:
    """VACUUM ANALYZE after a bulk load: planner statistics, and hint bits and the
    visibility map set now rather than by whichever timed statement reads first."""
    started = time.perf_counter()
    with psycopg_connect(autocommit=True) as conn:
        for table in tables:
            conn.execute(f"VACUUM (ANALYZE) {table}")
    log(f"  VACUUM ANALYZE in {time.perf_counter() - started:.1f} s")


def _summary(
    *, members: int, orders: int, as_of: dt.date, cutoff: dt.datetime, started: float
) -> Loaded:
    """The totals, read back from the database, with the invariants checked in bulk
    (a generator bug should fail here, not skew a benchmark)."""
    with psycopg_connect() as conn:
        accounts, available = conn.execute(
            "SELECT count(*), coalesce(sum(available), 0) FROM points_account"
        ).fetchone()
        entries = conn.execute("SELECT coalesce(sum(amount), 0) FROM points_entry").fetchone()[0]
        lot_count, remaining = conn.execute(
            "SELECT count(*), coalesce(sum(remaining), 0) FROM points_lot WHERE NOT pending"
        ).fetchone()
        due_lots, due_points = conn.execute(
            "SELECT count(*), coalesce(sum(remaining), 0) FROM points_lot "
            "WHERE NOT pending AND remaining > 0 AND expires_at <= %s",
            [cutoff],
        ).fetchone()
    if not (accounts == members and available == entries == remaining):
        raise AssertionError(
            f"generated ledger out of balance: {accounts} accounts, available {available}, "
            f"entries {entries}, lots {remaining}"
        )
    return Loaded(
        members=members,
        lots=lot_count,
        due_lots=due_lots,
        due_points=due_points,
        points=available,
        orders=orders,
        as_of=as_of,
        cutoff=cutoff,
        seconds=time.perf_counter() - started,
    )


def main(args: argparse.Namespace) -> None:
    generate(
        members=args.members,
        lots_per_member=args.lots_per_member,
        due_fraction=args.due_fraction,
        hot_lots=args.hot_lots,
        orders=not args.no_orders,
        as_of=args.as_of,
    )
