"""The nightly `segments` job: every member's lifecycle stage and RFM scores.

Plain SQL, portable between PostgreSQL and SQLite, because the ORM cannot say an
UPDATE ... FROM or an INSERT ... SELECT over an aggregate: a chunk is two
statements whatever its size. Only orders placed before the night's midnight and
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

The orders are read once a night: the first chunk to run aggregates every
member's orders into `SegmentFacts` (one GROUP BY over the orders) and computes
the bounds from those facts; every chunk then reads the facts of its members,
not the orders. A chunk writes only the members whose stage, scores or figures
changed (`computed_on` is the night a member's row last changed; the member
lookup reports the latest night the whole job ran, see campaigns.selectors), so
a night in which little changed writes little: an UPDATE of the rows that
changed, an INSERT of the members who have none (see `_write`); should another
run of the night insert the same members meanwhile, the chunk fails on the key
and a re-run redoes it. On PostgreSQL the facts are built under an exclusive
advisory lock and read under a shared one, so a chunk never reads another
night's facts, whatever runs at once.
"""

import datetime as dt
from typing import Any

from django.db import connection, transaction
from django.utils.dateparse import parse_datetime

from batch.registry import Job, register
from batch.services import program_midnight
from members.models import Member
from personalisation.tags import register_tag_rule
from shop.models import Order

from .models import MemberSegment, RfmBounds, SegmentFacts

NEW_DAYS = 30
AT_RISK_DAYS = 60
DORMANT_DAYS = 90
CHURNED_DAYS = 180
RFM_WINDOW_DAYS = 365

SEGMENT = MemberSegment._meta.db_table
FACTS = SegmentFacts._meta.db_table
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


# pg_advisory_xact_lock key of the facts ("SEGF").
FACTS_LOCK = 0x53454746


def _facts_lock(cursor: Any, *, shared: bool) -> None:
    if connection.vendor == "postgresql":
        kind = "_shared" if shared else ""
        cursor.execute(f"SELECT pg_advisory_xact_lock{kind}(%s)", [FACTS_LOCK])


def _facts_night(cursor: Any) -> dt.date | None:
    cursor.execute(f"SELECT as_of FROM {FACTS} LIMIT 1")
    row = cursor.fetchone()
    if row is None:
        return None
    value = row[0]
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def _facts_build(cursor: Any, as_of: dt.date) -> None:
    """Replace the facts by the night's: one GROUP BY over the orders before
    its midnight."""
    empty = "TRUNCATE" if connection.vendor == "postgresql" else "DELETE FROM"
    cursor.execute(f"{empty} {FACTS}")
    window = _days_before(as_of, RFM_WINDOW_DAYS)
    night = connection.ops.adapt_datefield_value(as_of)
    cursor.execute(
        f"""
        INSERT INTO {FACTS} (member_id, as_of, last_ever, last_at, n, spend)
        SELECT o.member_id, %s, MAX(o.placed_at),
            MAX(o.placed_at) FILTER (WHERE o.placed_at >= %s),
            COUNT(*) FILTER (WHERE o.placed_at >= %s),
            COALESCE(SUM(o.total_minor - o.refunded_minor) FILTER (WHERE o.placed_at >= %s), 0)
        FROM {ORDER} o
        WHERE o.placed_at < %s AND {COUNTED}
        GROUP BY o.member_id
        """,
        [night, window, window, window, _days_before(as_of, 0)],
    )
    # A row no member joins (ids start at 1) says whose night the facts are,
    # even when nobody has ordered.
    cursor.execute(
        f"INSERT INTO {FACTS} (member_id, as_of, last_ever, last_at, n, spend) "
        "VALUES (0, %s, %s, NULL, 0, 0)",
        [night, _days_before(as_of, 0)],
    )
    if connection.vendor == "postgresql":
        cursor.execute(f"ANALYZE {FACTS}")  # its statistics, for the chunks' plans


def _tile_ends(members: int) -> list[int]:
    """Where NTILE(5) over `members` rows in order ends its tiles 1-4: the
    1-based position of each tile's last row, 0 for an empty tile (fewer than
    five members). The first `members % 5` tiles hold one row more."""
    size, extra = divmod(members, 5)
    ends, end = [], 0
    for tile in range(4):
        rows = size + (tile < extra)
        end += rows
        ends.append(end if rows else 0)
    return ends


def _bounds_at(cursor: Any, ends: list[int], members: int) -> list:
    """The recency, frequency and monetary values at the positions `ends` in
    their order (4 each; None at 0), over the facts of the members who ordered
    in the window. PostgreSQL sorts each column alone with percentile_disc, whose
    value for a fraction f is the ceil(f * members)-th: f = (end - 0.5) / members
    is `end`'s whatever the rounding. SQLite has no percentile_disc: it numbers
    the rows in each order."""
    found = [end for end in ends if end]  # the empty tiles are the last ones
    if not found:
        return [None] * 12
    columns = ("last_at", "n", "spend")
    if connection.vendor == "postgresql":
        fractions = [(end - 0.5) / members for end in found]
        selects = ", ".join(
            f"percentile_disc(%s::float8[]) WITHIN GROUP (ORDER BY {column})" for column in columns
        )
        cursor.execute(f"SELECT {selects} FROM {FACTS} WHERE n > 0", [fractions] * 3)
        per_column = cursor.fetchone()
    else:
        numbered = ", ".join(
            f"ROW_NUMBER() OVER (ORDER BY {column}) AS {column}_row" for column in columns
        )
        picked = ", ".join(
            f"MAX(CASE WHEN {column}_row = {end} THEN {column} END)"
            for column in columns
            for end in found
        )
        cursor.execute(
            f"SELECT {picked} FROM (SELECT {', '.join(columns)}, {numbered} "
            f"FROM {FACTS} WHERE n > 0) t"
        )
        row = cursor.fetchone()
        per_column = [row[i : i + len(found)] for i in range(0, len(row), len(found))]
    empty = [None] * (4 - len(found))
    return [value for values in per_column for value in (*values, *empty)]


def _bounds_compute(cursor: Any, as_of: dt.date) -> None:
    """The night's quintile bounds, from the facts of the members who ordered
    in the window: the highest value of each of NTILE(5)'s tiles 1-4, which is
    the value at the tile's last position in that value's order."""
    cursor.execute(f"SELECT COUNT(*) FROM {FACTS} WHERE n > 0")
    (members,) = cursor.fetchone()
    values = _bounds_at(cursor, _tile_ends(members), members)
    RfmBounds.objects.bulk_create(
        [
            RfmBounds(
                as_of=as_of,
                recency=[None if v is None else _aware(v).isoformat() for v in values[0:4]],
                frequency=[None if v is None else int(v) for v in values[4:8]],
                monetary=[None if v is None else int(v) for v in values[8:12]],
                members=members,
            )
        ],
        ignore_conflicts=True,
    )


def segment_facts_prepare(as_of: dt.date) -> None:
    """Make the facts the night's, and its bounds, unless they are already: a
    night's first chunk builds them, the others (and a replay) find them."""
    with transaction.atomic(), connection.cursor() as cursor:
        _facts_lock(cursor, shared=False)
        if _facts_night(cursor) != as_of:
            _facts_build(cursor, as_of)
        if not RfmBounds.objects.filter(as_of=as_of).exists():
            _bounds_compute(cursor, as_of)


def rfm_bounds(as_of: dt.date) -> RfmBounds:
    """The night's quintile bounds (with its facts built first, if need be)."""
    found = RfmBounds.objects.filter(as_of=as_of).first()
    if found is not None:
        return found
    segment_facts_prepare(as_of)
    return RfmBounds.objects.get(as_of=as_of)


def _score(value: str, bounds: list, adapt: Any = None) -> tuple[str, list]:
    """SQL for 1 + the number of bounds `value` exceeds (NULL without orders in
    the window), with its parameters."""
    terms = " + ".join(f"(CASE WHEN {value} > %s THEN 1 ELSE 0 END)" for _bound in bounds)
    params = [adapt(b) if adapt and b is not None else b for b in bounds]
    return f"(CASE WHEN f.n > 0 THEN 1 + {terms} END)", params


def _timestamp(text: str) -> Any:
    return connection.ops.adapt_datetimefield_value(dt.datetime.fromisoformat(text))


COLUMNS = (
    "lifecycle",
    "recency",
    "frequency",
    "monetary",
    "last_order_at",
    "orders",
    "spend_minor",
    "computed_on",
)
# A member's row changed when anything in it but the night did.
CHANGED = " OR ".join(f"{SEGMENT}.{column} IS DISTINCT FROM c.{column}" for column in COLUMNS[:-1])


def _computed(as_of: dt.date, bounds: RfmBounds, first_id: int, last_id: int) -> tuple[str, list]:
    """A SELECT of the night's row of each member `first_id`..`last_id` (the
    columns `member_id` and COLUMNS), with its parameters."""
    recency, r_params = _score("f.last_at", bounds.recency, _timestamp)
    frequency, f_params = _score("f.n", bounds.frequency)
    monetary, m_params = _score("f.spend", bounds.monetary)
    sql = f"""
        SELECT m.id AS member_id,
            CASE WHEN COALESCE(f.last_ever, m.joined_at) < %s THEN 'churned'
                 WHEN COALESCE(f.last_ever, m.joined_at) < %s THEN 'dormant'
                 WHEN f.last_ever IS NULL OR m.joined_at >= %s THEN 'new'
                 WHEN f.last_ever < %s THEN 'at_risk'
                 ELSE 'active' END AS lifecycle,
            {recency} AS recency, {frequency} AS frequency, {monetary} AS monetary,
            f.last_ever AS last_order_at, COALESCE(f.n, 0) AS orders,
            COALESCE(f.spend, 0) AS spend_minor, %s AS computed_on
        FROM {MEMBER} m
        LEFT JOIN {FACTS} f ON f.member_id = m.id AND f.member_id BETWEEN %s AND %s
        WHERE m.id BETWEEN %s AND %s
    """
    params = [
        _days_before(as_of, CHURNED_DAYS),
        _days_before(as_of, DORMANT_DAYS),
        _days_before(as_of, NEW_DAYS),
        _days_before(as_of, AT_RISK_DAYS),
        *r_params,
        *f_params,
        *m_params,
        connection.ops.adapt_datefield_value(as_of),
        first_id,
        last_id,
        first_id,
        last_id,
    ]
    return sql, params


def _write(cursor: Any, as_of: dt.date, bounds: RfmBounds, first_id: int, last_id: int) -> int:
    """Update the rows that changed, insert the members who have none: two
    statements, not one INSERT ... ON CONFLICT DO UPDATE WHERE, which checks the
    key before each row and locks every row it finds, changed or not. Each names
    the range on the segments too, so that PostgreSQL reads only the chunk's
    rows of the table (it does not carry a range across the join)."""
    computed, params = _computed(as_of, bounds, first_id, last_id)
    columns = ", ".join(COLUMNS)
    cursor.execute(
        f"UPDATE {SEGMENT} SET "
        + ", ".join(f"{column} = c.{column}" for column in COLUMNS)
        + f" FROM ({computed}) c WHERE {SEGMENT}.member_id = c.member_id "
        f"AND {SEGMENT}.member_id BETWEEN %s AND %s AND ({CHANGED})",
        [*params, first_id, last_id],
    )
    updated = max(cursor.rowcount, 0)
    cursor.execute(
        f"INSERT INTO {SEGMENT} (member_id, {columns}) SELECT member_id, {columns} "
        f"FROM ({computed}) c WHERE NOT EXISTS (SELECT 1 FROM {SEGMENT} s "
        "WHERE s.member_id = c.member_id AND s.member_id BETWEEN %s AND %s)",
        [*params, first_id, last_id],
    )
    return updated + max(cursor.rowcount, 0)


def segments(as_of: dt.date, first_id: int, last_id: int) -> dict[str, int]:
    """Write the lifecycle stage and RFM scores of members `first_id`..`last_id`
    for the night `as_of`, from the night's facts: an UPDATE of the members whose
    values changed and an INSERT of those new to the table."""
    bounds = rfm_bounds(as_of)
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            _facts_lock(cursor, shared=True)
            if _facts_night(cursor) == as_of:
                written = _write(cursor, as_of, bounds, first_id, last_id)
                break
        segment_facts_prepare(as_of)  # not built, lost in a crash, or another night's
    return {"members_segmented": written}


def lifecycle_tag_rule(as_of: dt.date, first_id: int, last_id: int) -> tuple[str, list]:
    """The tags job's `lifecycle:<stage>` (the `segments` job runs before it)."""
    sql = (
        f"SELECT s.member_id, 'lifecycle:' || s.lifecycle AS tag FROM {SEGMENT} s "
        "WHERE s.member_id BETWEEN %s AND %s"
    )
    return sql, [first_id, last_id]


def register_jobs() -> None:
    register(Job("segments", 60, segments, "lifecycle stage and RFM scores of every member"))
    register_tag_rule("lifecycle", lifecycle_tag_rule)
