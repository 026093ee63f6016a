"""The nightly `segments` job: every member's lifecycle stage and RFM scores.

Plain SQL, portable between PostgreSQL and SQLite, because the ORM cannot say an
INSERT ... SELECT ... ON CONFLICT DO UPDATE over an aggregate: a chunk is one
statement whatever its size. Only orders placed before the night's midnight and
not wholly refunded count, so a replay of a night finds what the night found.

Lifecycle, by the last order (or the joining, for a member who never ordered)
before the night's midnight, in programme days:

- `churned`: none for CHURNED_DAYS (180); `dormant`: none for DORMANT_DAYS (90);
- `new`: joined in the last NEW_DAYS (30), or never ordered;
- `at_risk`: none for AT_RISK_DAYS (60); `active`: ordered in the last 60 days.

RFM: among the members who ordered in the RFM_WINDOW_DAYS (365) before the night,
recency (the last order's time), frequency (orders) and monetary (net spend)
are each split into quintiles by NTILE(5): a member scores 1 + the number of
tiles 1-4 whose highest value theirs exceeds (ties score alike). The bounds are
computed over all those members once a night (`RfmBounds`), so the chunks score
against the whole programme. Members without an order in the window have none.
"""

import datetime as dt
from typing import Any

from django.db import connection
from django.utils.dateparse import parse_datetime

from batch.registry import Job, register
from batch.services import program_midnight
from members.models import Member
from shop.models import Order

from .models import MemberSegment, RfmBounds

NEW_DAYS = 30
AT_RISK_DAYS = 60
DORMANT_DAYS = 90
CHURNED_DAYS = 180
RFM_WINDOW_DAYS = 365

SEGMENT = MemberSegment._meta.db_table
ORDER = Order._meta.db_table
MEMBER = Member._meta.db_table
COUNTED = "o.total_minor > o.refunded_minor"


def _days_before(as_of: dt.date, days: int) -> Any:
    return connection.ops.adapt_datetimefield_value(program_midnight(as_of - dt.timedelta(days)))


def _aware(value: dt.datetime | str) -> dt.datetime:
    """A timestamp as the cursor returns it (SQLite: text) as an aware datetime."""
    parsed = parse_datetime(value) if isinstance(value, str) else value
    if parsed is None:
        raise ValueError(f"not a timestamp: {value!r}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def rfm_bounds(as_of: dt.date) -> RfmBounds:
    """The night's quintile bounds: computed by the first chunk to ask, one
    statement over the window's orders, and kept for the others."""
    found = RfmBounds.objects.filter(as_of=as_of).first()
    if found is not None:
        return found
    tiles = range(1, 5)
    columns = ", ".join(
        f"MAX(CASE WHEN {tile}_tile = {n} THEN {value} END)"
        for tile, value in (("r", "last_at"), ("f", "n"), ("m", "spend"))
        for n in tiles
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH a AS (
                SELECT o.member_id, MAX(o.placed_at) AS last_at, COUNT(*) AS n,
                       SUM(o.total_minor - o.refunded_minor) AS spend
                FROM {ORDER} o
                WHERE o.placed_at >= %s AND o.placed_at < %s AND {COUNTED}
                GROUP BY o.member_id
            ), t AS (
                SELECT last_at, n, spend,
                       NTILE(5) OVER (ORDER BY last_at) AS r_tile,
                       NTILE(5) OVER (ORDER BY n) AS f_tile,
                       NTILE(5) OVER (ORDER BY spend) AS m_tile
                FROM a
            )
            SELECT COUNT(*), {columns} FROM t
            """,
            [_days_before(as_of, RFM_WINDOW_DAYS), _days_before(as_of, 0)],
        )
        members, *values = cursor.fetchone()
    bounds = RfmBounds(
        as_of=as_of,
        recency=[None if v is None else _aware(v).isoformat() for v in values[0:4]],
        frequency=[None if v is None else int(v) for v in values[4:8]],
        monetary=[None if v is None else int(v) for v in values[8:12]],
        members=members,
    )
    RfmBounds.objects.bulk_create([bounds], ignore_conflicts=True)
    return RfmBounds.objects.get(as_of=as_of)


def _score(value: str, bounds: list, adapt: Any = None) -> tuple[str, list]:
    """SQL for 1 + the number of bounds `value` exceeds (NULL without orders),
    with its parameters."""
    terms = " + ".join(f"(CASE WHEN {value} > %s THEN 1 ELSE 0 END)" for _bound in bounds)
    params = [adapt(b) if adapt and b is not None else b for b in bounds]
    return f"(CASE WHEN a.n > 0 THEN 1 + {terms} END)", params


def _timestamp(text: str) -> Any:
    return connection.ops.adapt_datetimefield_value(dt.datetime.fromisoformat(text))


def segments(as_of: dt.date, first_id: int, last_id: int) -> dict[str, int]:
    """Write the lifecycle stage and RFM scores of members `first_id`..`last_id`
    for the night `as_of`: one INSERT ... SELECT that upserts every member's row
    (a replay of the same night writes the same values)."""
    bounds = rfm_bounds(as_of)
    recency, r_params = _score("a.last_at", bounds.recency, _timestamp)
    frequency, f_params = _score("a.n", bounds.frequency)
    monetary, m_params = _score("a.spend", bounds.monetary)
    window = _days_before(as_of, RFM_WINDOW_DAYS)
    params = [
        _days_before(as_of, CHURNED_DAYS),
        _days_before(as_of, DORMANT_DAYS),
        _days_before(as_of, NEW_DAYS),
        _days_before(as_of, AT_RISK_DAYS),
        *r_params,
        *f_params,
        *m_params,
        connection.ops.adapt_datefield_value(as_of),
        window,
        window,
        window,
        first_id,
        last_id,
        _days_before(as_of, 0),
        first_id,
        last_id,
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {SEGMENT} (member_id, lifecycle, recency, frequency, monetary,
                last_order_at, orders, spend_minor, computed_on)
            SELECT m.id,
                CASE WHEN COALESCE(a.last_ever, m.joined_at) < %s THEN 'churned'
                     WHEN COALESCE(a.last_ever, m.joined_at) < %s THEN 'dormant'
                     WHEN a.last_ever IS NULL OR m.joined_at >= %s THEN 'new'
                     WHEN a.last_ever < %s THEN 'at_risk'
                     ELSE 'active' END,
                {recency}, {frequency}, {monetary},
                a.last_ever, COALESCE(a.n, 0), COALESCE(a.spend, 0), %s
            FROM {MEMBER} m
            LEFT JOIN (
                SELECT o.member_id, MAX(o.placed_at) AS last_ever,
                    MAX(CASE WHEN o.placed_at >= %s THEN o.placed_at END) AS last_at,
                    SUM(CASE WHEN o.placed_at >= %s THEN 1 ELSE 0 END) AS n,
                    SUM(CASE WHEN o.placed_at >= %s
                        THEN o.total_minor - o.refunded_minor ELSE 0 END) AS spend
                FROM {ORDER} o
                WHERE o.member_id BETWEEN %s AND %s AND o.placed_at < %s AND {COUNTED}
                GROUP BY o.member_id
            ) a ON a.member_id = m.id
            WHERE m.id BETWEEN %s AND %s
            ON CONFLICT (member_id) DO UPDATE SET
                lifecycle = excluded.lifecycle, recency = excluded.recency,
                frequency = excluded.frequency, monetary = excluded.monetary,
                last_order_at = excluded.last_order_at, orders = excluded.orders,
                spend_minor = excluded.spend_minor, computed_on = excluded.computed_on
            """,
            params,
        )
        written = cursor.rowcount
    return {"members_segmented": max(written, 0)}


def register_jobs() -> None:
    register(Job("segments", 60, segments, "lifecycle stage and RFM scores of every member"))
