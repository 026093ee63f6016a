"""recalc_tiers: the nightly tier job beside one aggregate and one UPDATE in plain
SQL on the same data.

For each scale (by default a quarter of it, then all of it: 1 million members with
10 million orders) the database is loaded afresh:

- the members, as `bench.generate` loads them, every second one with marketing
  consent (the near-upgrade nudge is e-mailed only to those);
- their orders, by COPY: about `orders / members` each, placed uniformly over the
  last DAYS days (so some fall outside the 365-day window); each member's yearly
  spend is drawn log-uniformly within a band between two tier thresholds, picked
  with the weights of BAND_WEIGHTS (about 60/25/12/3 % of the members below Silver,
  Silver, Gold, Diamond), and shared by their orders with +-50 % noise; 5 % of the
  orders are refunded, half of them wholly;
- the tier state as of the previous night, in plain SQL (`tiers_membertier`): the
  tier the spend of the window ending two days before the night qualified for,
  evaluated the night before; members whose spend of the window ending a month
  earlier qualified for more are in grace at that tier, ending over the next 30
  days; one member in a thousand has an override one tier up (a few ending
  tonight); the members near the next threshold were nudged during the last 30
  days. The night measured thus sees one day of orders enter the window and one
  leave it: the usual few changes.

Then, each in a child process of its own (`python -m bench _tiers_job`) after a
CHECKPOINT, with autovacuum kept off `tiers_membertier` and the copy:

1. the baseline: one UPDATE of `bench_tier` (a copy of the tier column) from one
   aggregate of every member's spend over the same window;
2. the job, as `manage.py recalc_tiers` runs it (`batch.runner.job_run`, chunks
   one after another, Celery eager); e-mail goes to Django's dummy backend, so the
   notices the job queues in the outbox are claimed and rendered but not sent: the
   time of the outbox's sending task is reported beside the job's, which includes
   it (marketing nudges wait while it is QUIET_HOURS, and are then not sent);
3. the same night again, which must find nothing left to do;
4. the baseline again, on a cache the job has warmed.

Memory is the child's resident set before the run and its peak (`VmRSS`,
`VmHWM`). Each run of the job also prints its slowest statements (time summed
over the chunks, through a Django execute wrapper): where its time goes beside the
baseline's. Afterwards the results are checked: one history row per upgrade or downgrade
counted, the spend tier the same as the baseline's for every member, no tier
above what spend or override qualifies for except in grace, and a sample of
members evaluated one by one in Python (`tiers.selectors`) from the state the job
started from.
"""

import argparse
import bisect
import datetime as dt
import json
import os
import random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection

from batch.services import program_midnight, program_today
from shop.selectors import shop_default
from tiers.models import Tier
from tiers.selectors import member_spend, qualified_tier, qualifying_window, tiers_by_rank

from .arguments import QUICK
from .database import TimedRun, checkpoint, memory_mb, psycopg_connect, run_child, say
from .generate import (
    FINGERPRINT,
    TABLES,
    begin_load,
    copy_members,
    copy_rows,
    reset_sequences,
    vacuum_analyze,
)

DAYS = 420  # orders are placed over this many days before the night
BAND_WEIGHTS = (0.60, 0.25, 0.12, 0.03)  # members by yearly spend, one band per tier
LOWEST_SPEND = 0.05  # of the second tier's threshold: the least yearly spend drawn
HIGHEST_SPEND = 3.0  # of the top tier's threshold: the most
REFUNDED = 0.05  # share of orders refunded, half of them wholly
MARKETING_EVERY = 2  # every second member consented to marketing e-mail
OVERRIDE_EVERY = 1000  # one member in this many has a staff override
OVERRIDE_DAYS = 90  # overrides end over this many days, from tonight on
SAMPLE = 100  # members checked one by one, at random and among those that moved
TARGET_RATIO = 2.0  # the job may take at most twice the plain SQL's time
TARGET_RERUN = 0.25  # the same night again: at most a quarter of the first run
SLOWEST = 8  # statements shown per run of the job, the slowest first
STATEMENT_CHARS = 90  # of each statement's text shown
COUNTS = [
    "spend_changed",
    "chunks_skipped",
    "upgraded",
    "grace_started",
    "grace_cleared",
    "downgraded",
    "nudged",
]
LOADED = [
    *TABLES,
    "shop_order",
    "tiers_membertier",
    "tiers_tierchange",
]


@dataclass
class Figures(TimedRun):
    """One timed run in a child process."""

    chunks: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    notices_seconds: float = 0.0
    emails: int = 0
    sql_seconds: float = 0.0
    statements: list[tuple[str, int, float]] = field(default_factory=list)
    noise: str = ""


@dataclass
class Scale:
    members: int
    orders: int
    plain_before: Figures
    job: Figures
    rerun: Figures
    plain_after: Figures
    problems: list[str]

    @property
    def plain(self) -> float:
        """The faster baseline: the stricter measure for the ratio."""
        return min(self.plain_before.seconds, self.plain_after.seconds)

    @property
    def ratio(self) -> float:
        return self.job.seconds / self.plain if self.plain else 0.0

    @property
    def rerun_ratio(self) -> float:
        return self.rerun.seconds / self.job.seconds if self.job.seconds else 0.0


# -- SQL over tier levels (a tier's position in rank order, 0 the lowest) --


def _level(spend: str, orders: str, tiers: list[Tier]) -> str:
    """The level of the highest tier whose threshold and minimum orders are met."""
    whens = " ".join(
        f"WHEN {spend} >= {int(t.threshold_minor)} AND {orders} >= {int(t.min_orders)} THEN {i}"
        for i, t in reversed(list(enumerate(tiers)))
    )
    return f"(CASE {whens} ELSE 0 END)"


def _by_level(level: str, values: list[int]) -> str:
    whens = " ".join(f"WHEN {i} THEN {int(value)}" for i, value in enumerate(values))
    return f"(CASE {level} {whens} END)"


def _tier_level(column: str, tiers: list[Tier]) -> str:
    whens = " ".join(f"WHEN {int(t.pk)} THEN {i}" for i, t in enumerate(tiers))
    return f"(CASE {column} {whens} END)"


def _spend(alias: str) -> str:
    """Spend and orders per member over [%s, %s), as `alias`."""
    return (
        f"(SELECT member_id, sum(total_minor - refunded_minor) AS spend, "
        f"count(*) FILTER (WHERE total_minor > refunded_minor) AS orders "
        f"FROM shop_order WHERE placed_at >= %s AND placed_at < %s "
        f"GROUP BY member_id) {alias}"
    )


# -- the load --


def _stamps(as_of: dt.date) -> list[int]:
    """Epoch seconds of the local midnights of the DAYS days before `as_of`, the
    latest first."""
    return [
        int(program_midnight(as_of - dt.timedelta(days=back)).timestamp())
        for back in range(1, DAYS + 1)
    ]


def _order_rows(*, members: int, orders: int, as_of: dt.date, tiers: list[Tier]) -> Iterator[str]:
    rng = random.Random(members * 7919 + orders)
    draw = rng.random
    thresholds = [int(t.threshold_minor) for t in tiers]
    if len(thresholds) != len(BAND_WEIGHTS):
        raise SystemExit(f"the spend bands are for {len(BAND_WEIGHTS)} tiers, not {len(tiers)}")
    bounds = [
        thresholds[1] * LOWEST_SPEND,
        *thresholds[1:],
        thresholds[-1] * HIGHEST_SPEND,
    ]
    cumulative = [sum(BAND_WEIGHTS[: i + 1]) for i in range(len(BAND_WEIGHTS))]
    spread = 2 * orders / members - 1
    midnights = _stamps(as_of)
    per_window = DAYS / settings.TIER_WINDOW_DAYS
    cache: dict[int, str] = {}
    currency = settings.PROGRAM_CURRENCY
    shop = shop_default().pk
    order_id = 0
    for member in range(1, members + 1):
        band = min(bisect.bisect_right(cumulative, draw()), len(BAND_WEIGHTS) - 1)
        low, high = bounds[band], bounds[band + 1]
        yearly = low * (high / low) ** draw()
        count = 1 + int(draw() * spread)
        mean = yearly * per_window / count
        for _ in range(count):
            order_id += 1
            total = max(100, int(mean * (0.5 + draw())))
            refunded = 0
            if (refund := draw()) < REFUNDED:
                refunded = total if refund < REFUNDED / 2 else 1 + int((total - 1) * draw())
            at = midnights[int(draw() * DAYS)] + 60 * (480 + int(draw() * 900))
            stamp = cache.get(at)
            if stamp is None:
                stamp = cache[at] = time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime(at))
            yield (
                f"{order_id}\tT{order_id:010d}\t{member}\t{stamp}\t{currency}\t{total}\t0\t"
                f"{refunded}\t{stamp}\t{FINGERPRINT}\t{shop}\n"
            )


def _load_state(cursor: psycopg.Cursor, as_of: dt.date, tiers: list[Tier]) -> None:
    """The tier state the previous night left (see the module's docstring)."""
    top = len(tiers) - 1
    ids = [int(t.pk) for t in tiers]
    before = as_of - dt.timedelta(days=1)
    recent = qualifying_window(last_day=as_of - dt.timedelta(days=2))
    earlier = qualifying_window(last_day=as_of - dt.timedelta(days=32))
    next_thresholds = [int(t.threshold_minor) for t in tiers[1:]] + [0]
    near = 100 - settings.TIER_NUDGE_PERCENT
    cursor.execute(
        f"""
        INSERT INTO tiers_membertier (member_id, tier_id, since, grace_until,
            override_tier_id, override_until, override_reason, qualified_tier_id,
            spend_minor, orders_count, nudged_on)
        WITH s AS (
            SELECT m.id, coalesce(r.spend, 0) AS spend, coalesce(r.orders, 0) AS orders,
                coalesce(e.spend, 0) AS spend_earlier, coalesce(e.orders, 0) AS orders_earlier
            FROM members_member m
            LEFT JOIN {_spend("r")} ON r.member_id = m.id
            LEFT JOIN {_spend("e")} ON e.member_id = m.id
        ), q AS (
            SELECT *, {_level("spend", "orders", tiers)} AS q,
                {_level("spend_earlier", "orders_earlier", tiers)} AS q_earlier
            FROM s
        ), o AS (
            SELECT *, CASE WHEN mod(id, {OVERRIDE_EVERY}) = 7 THEN LEAST(q + 1, {top}) END
                AS override
            FROM q
        ), f AS (
            SELECT *, GREATEST(q, coalesce(override, 0)) AS floor FROM o
        ), t AS (
            SELECT *, GREATEST(floor, q_earlier) AS level, q_earlier > floor AS in_grace FROM f
        )
        SELECT id, {_by_level("level", ids)},
            %s::timestamptz - make_interval(days => 31 + mod(id, 365)::int),
            CASE WHEN in_grace THEN %s::date + mod(id * 7919, 30)::int END,
            {_by_level("override", ids)},
            CASE WHEN override IS NOT NULL
                THEN %s::date + mod(id / {OVERRIDE_EVERY}, {OVERRIDE_DAYS})::int END,
            CASE WHEN override IS NOT NULL THEN 'bench' ELSE '' END,
            {_by_level("q", ids)}, spend, orders,
            CASE WHEN level < {top} AND spend < {_by_level("level", next_thresholds)}
                AND spend * 100 >= {_by_level("level", next_thresholds)} * {near}
                THEN %s::date - mod(id, {settings.TIER_NUDGE_EVERY_DAYS})::int END
        FROM t
        """,
        [*recent, *earlier, program_midnight(before), as_of, before, before],
    )


def load(*, members: int, orders: int, as_of: dt.date) -> None:
    started = time.perf_counter()
    tiers = tiers_by_rank()
    say(f"generating {members:,} members, about {orders:,} orders, as of {as_of}")
    with psycopg_connect() as conn, conn.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_tier, bench_before")
        begin_load(cursor, LOADED)
        copy_members(cursor, members=members, as_of=as_of, marketing_every=MARKETING_EVERY)
        copy_rows(
            cursor,
            "shop_order",
            "id, order_id, member_id, placed_at, currency, total_minor, shipping_minor, "
            "refunded_minor, created_at, fingerprint, shop_id",
            _order_rows(members=members, orders=orders, as_of=as_of, tiers=tiers),
        )
        reset_sequences(cursor, ["members_user", "members_member", "shop_order"])
        conn.commit()
    vacuum_analyze(["members_user", "members_member", "shop_order"])
    state_started = time.perf_counter()
    with psycopg_connect() as conn, conn.cursor() as cursor:
        cursor.execute("ALTER TABLE tiers_membertier SET (autovacuum_enabled = false)")
        _load_state(cursor, as_of, tiers)
        cursor.execute(
            "CREATE TABLE bench_tier WITH (autovacuum_enabled = false) AS "
            "SELECT member_id, tier_id FROM tiers_membertier"
        )
        cursor.execute("ALTER TABLE bench_tier ADD PRIMARY KEY (member_id)")
        cursor.execute(
            "CREATE TABLE bench_before AS SELECT member_id, tier_id, since, grace_until, "
            "override_tier_id, override_until FROM tiers_membertier"
        )
        conn.commit()
    say(f"  tier state of the previous night in {time.perf_counter() - state_started:.1f} s")
    vacuum_analyze(["tiers_membertier", "bench_tier", "bench_before"])
    say(f"  {_describe_state(tiers, as_of)}; loaded in {time.perf_counter() - started:.1f} s")


def _row(query: str, params: list[Any] | None = None) -> tuple[Any, ...]:
    """The one row `query` answers."""
    with psycopg_connect() as conn:
        row = conn.execute(query, params).fetchone()
    if row is None:
        raise RuntimeError(f"no row from {query}")
    return row


def _describe_state(tiers: list[Tier], as_of: dt.date) -> str:
    with psycopg_connect() as conn:
        by_tier: dict[int, int] = dict(
            conn.execute("SELECT tier_id, count(*) FROM tiers_membertier GROUP BY tier_id")
        )
    orders, refunded, in_window = _row(
        "SELECT count(*), count(*) FILTER (WHERE refunded_minor > 0), "
        "count(*) FILTER (WHERE placed_at >= %s AND placed_at < %s) FROM shop_order",
        list(qualifying_window(last_day=as_of - dt.timedelta(days=1))),
    )
    grace, overrides, nudged = _row(
        "SELECT count(grace_until), count(override_tier_id), count(nudged_on) FROM tiers_membertier"
    )
    members = sum(by_tier.values())
    shares = ", ".join(f"{t.code} {100 * by_tier.get(t.pk, 0) / members:.1f} %" for t in tiers)
    return (
        f"{orders:,} orders ({in_window:,} in tonight's window, {refunded:,} refunded); "
        f"tiers {shares}; {grace:,} in grace, {overrides:,} overrides, {nudged:,} nudged lately"
    )


# -- the timed runs, each in a child process --


class _NoticeTimer:
    """The time spent in the outbox's sending tasks (run inside the job, Celery
    being eager) and the e-mails they sent."""

    TASK = "notifications.send_outbox"

    def __init__(self) -> None:
        self.seconds = 0.0
        self.emails = 0
        self._started: dict[str, float] = {}

    def prerun(self, task_id: str, task: Any, **_: Any) -> None:
        if task.name == self.TASK:
            self._started[task_id] = time.perf_counter()

    def postrun(self, task_id: str, task: Any, retval: Any = None, **_: Any) -> None:
        started = self._started.pop(task_id, None)
        if started is not None:
            self.seconds += time.perf_counter() - started
            self.emails += retval.get("sent", 0) if isinstance(retval, dict) else 0


class _StatementTimer:
    """Time per distinct statement sent through Django (an execute wrapper): where
    the job's time goes. Statements are told apart by their text, numbered in the
    order they first ran; lists of parameters count as one."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            key = re.sub(r"%s(, %s)+", "%s, ...", " ".join(sql.split()))
            self.seconds[key] = self.seconds.get(key, 0.0) + time.perf_counter() - started
            self.calls[key] = self.calls.get(key, 0) + 1

    def slowest(self, count: int) -> list[tuple[str, int, float]]:
        numbered = [
            (f"#{number} {key[:STATEMENT_CHARS]}", self.calls[key], seconds)
            for number, (key, seconds) in enumerate(self.seconds.items(), start=1)
        ]
        return sorted(numbered, key=lambda row: -row[2])[:count]


def _plain_child(as_of: dt.date) -> Figures:
    tiers = tiers_by_rank()
    start, end = qualifying_window(last_day=as_of - dt.timedelta(days=1))
    level = _level("s.spend", "s.orders", tiers)
    before = memory_mb("VmRSS")
    with psycopg_connect() as conn:
        started = time.perf_counter()
        conn.execute(
            f"""
            UPDATE bench_tier b SET tier_id = {_by_level(level, [int(t.pk) for t in tiers])}
            FROM (
                SELECT t.member_id, coalesce(a.spend, 0) AS spend,
                    coalesce(a.orders, 0) AS orders
                FROM bench_tier t LEFT JOIN {_spend("a")} ON a.member_id = t.member_id
            ) s
            WHERE b.member_id = s.member_id
            """,
            [start, end],
        )
        conn.commit()
        seconds = time.perf_counter() - started
    return Figures(seconds=seconds, rss_before_mb=before, rss_peak_mb=memory_mb("VmHWM"))


def _job_child(as_of: dt.date, chunk_size: int | None) -> Figures:
    from celery.signals import task_postrun, task_prerun

    from batch.runner import job_run
    from batch.services import DEFAULT_CHUNK_SIZE

    settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
    timer = _NoticeTimer()
    task_prerun.connect(timer.prerun, weak=False)
    task_postrun.connect(timer.postrun, weak=False)
    statements = _StatementTimer()
    before = memory_mb("VmRSS")
    started = time.perf_counter()
    with connection.execute_wrapper(statements):
        run = job_run(name="recalc_tiers", as_of=as_of, chunk_size=chunk_size or DEFAULT_CHUNK_SIZE)
    seconds = time.perf_counter() - started
    if run.status != "succeeded":
        raise SystemExit(f"recalc_tiers {run.status}: {run.error}")
    return Figures(
        seconds=seconds,
        rss_before_mb=before,
        rss_peak_mb=memory_mb("VmHWM"),
        chunks=run.chunks_total,
        counts={key: int(value) for key, value in run.counts.items()},
        notices_seconds=timer.seconds,
        emails=timer.emails,
        sql_seconds=sum(statements.seconds.values()),
        statements=statements.slowest(SLOWEST),
    )


def job_child(args: argparse.Namespace) -> None:
    """`python -m bench _tiers_job`: one timed run, its figures printed as JSON."""
    figures = _plain_child(args.as_of) if args.plain else _job_child(args.as_of, args.chunk_size)
    print(json.dumps(figures.__dict__))


def _noise() -> str:
    """What else the machine is doing: the load average and other databases'
    active queries on the server."""
    (others,) = _row(
        "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
        "AND datname IS DISTINCT FROM current_database()"
    )
    return f"load {os.getloadavg()[0]:.2f}, {others} other queries"


def _timed(as_of: dt.date, *, plain: bool, chunk_size: int | None) -> Figures:
    checkpoint()
    noise = _noise()
    arguments = ["--as-of", str(as_of)]
    if plain:
        arguments.append("--plain")
    if chunk_size:
        arguments += ["--chunk-size", str(chunk_size)]
    figures = Figures(**run_child("_tiers_job", *arguments))
    figures.noise = noise
    return figures


def _vacuum_copy() -> None:
    """The copy as the first baseline found it: its dead rows cleared, untimed."""
    with psycopg_connect(autocommit=True) as conn:
        conn.execute("VACUUM bench_tier")


# -- the checks --


def _expected(
    before: tuple[int, dt.datetime, dt.date | None, int | None, dt.date | None],
    spend: tuple[int, int],
    tiers: list[Tier],
    as_of: dt.date,
) -> tuple[int, dt.date | None]:
    """The tier and grace end the night should leave, evaluated in Python from the
    member's spend and the state the job started from."""
    tier_id, since, grace_until, override_id, override_until = before
    level = {t.pk: i for i, t in enumerate(tiers)}
    current = level[tier_id]
    floor = level[qualified_tier(spend_minor=spend[0], orders=spend[1]).pk]
    if override_id is not None and override_until is not None and override_until >= as_of:
        floor = max(floor, level[override_id])
    if floor > current:
        return tiers[floor].pk, None
    if floor == current:
        return tier_id, None
    if since >= program_midnight(as_of):
        return tier_id, grace_until
    if grace_until is None:
        return tier_id, as_of + dt.timedelta(days=settings.TIER_GRACE_DAYS)
    if grace_until <= as_of:
        return tiers[current - 1].pk, None
    return tier_id, grace_until


def _spot_check(as_of: dt.date, tiers: list[Tier]) -> list[str]:
    """SAMPLE members at random and SAMPLE among those the night moved (tier or
    grace), each evaluated one by one."""
    rng = random.Random(as_of.toordinal())
    with psycopg_connect() as conn:
        everyone = [row[0] for row in conn.execute("SELECT member_id FROM bench_before")]
        moved = [
            row[0]
            for row in conn.execute(
                "SELECT member_id FROM bench_before b JOIN tiers_membertier t USING (member_id) "
                "WHERE b.tier_id <> t.tier_id OR b.grace_until IS DISTINCT FROM t.grace_until "
                "ORDER BY member_id"
            )
        ]
        sample = sorted(
            set(rng.sample(everyone, min(SAMPLE, len(everyone))))
            | set(rng.sample(moved, min(SAMPLE, len(moved))))
        )
        before = {
            row[0]: row[1:]
            for row in conn.execute(
                "SELECT member_id, tier_id, since, grace_until, override_tier_id, override_until "
                "FROM bench_before WHERE member_id = ANY(%s)",
                [sample],
            )
        }
        after = {
            row[0]: row[1:]
            for row in conn.execute(
                "SELECT member_id, tier_id, grace_until, spend_minor FROM tiers_membertier "
                "WHERE member_id = ANY(%s)",
                [sample],
            )
        }
    problems = []
    for member_id in sample:
        spend = member_spend(member_id=member_id, last_day=as_of - dt.timedelta(days=1))
        expected = _expected(before[member_id], spend, tiers, as_of)
        tier_id, grace_until, stored_spend = after[member_id]
        if (tier_id, grace_until) != expected or stored_spend != spend[0]:
            problems.append(
                f"member {member_id}: tier {tier_id}, grace {grace_until}, spend {stored_spend}; "
                f"expected tier {expected[0]}, grace {expected[1]}, spend {spend[0]}"
            )
    say(
        f"  spot check: {len(sample)} members ({SAMPLE} at random, up to {SAMPLE} of the "
        f"{len(moved):,} whose tier or grace moved), evaluated one by one: "
        f"{len(problems)} differ"
    )
    return problems


def _check(as_of: dt.date, runs: list[Figures], tiers: list[Tier]) -> list[str]:
    changes = sum(run.counts.get(key, 0) for run in runs for key in ("upgraded", "downgraded"))
    level = _tier_level("t.tier_id", tiers)
    floor = (
        f"GREATEST({_tier_level('t.qualified_tier_id', tiers)}, "
        f"coalesce({_tier_level('t.override_tier_id', tiers)}, 0))"
    )
    checks: dict[str, tuple[str, list[Any]]] = {
        "history rows - (upgraded + downgraded)": (
            "SELECT count(*) - %s FROM tiers_tierchange WHERE as_of = %s",
            [changes, as_of],
        ),
        "spend tiers unlike the plain SQL's": (
            "SELECT count(*) FROM tiers_membertier t JOIN bench_tier b USING (member_id) "
            "WHERE t.qualified_tier_id IS DISTINCT FROM b.tier_id",
            [],
        ),
        "tiers above spend and override, not in grace": (
            f"SELECT count(*) FROM tiers_membertier t WHERE {level} > {floor} "
            "AND t.grace_until IS NULL AND t.since < %s",
            [program_midnight(as_of)],
        ),
        "tiers below spend or override": (
            f"SELECT count(*) FROM tiers_membertier t WHERE {level} < {floor}",
            [],
        ),
    }
    problems = []
    for name, (query, params) in checks.items():
        (value,) = _row(query, params)
        if value:
            problems.append(f"{name}: {value:,}")
    say(f"  bulk checks ({', '.join(checks)}): {len(problems)} failed")
    return problems + _spot_check(as_of, tiers)


# -- the whole benchmark --


def _report_run(name: str, figures: Figures) -> None:
    counts = ", ".join(f"{key} {figures.counts.get(key, 0):,}" for key in COUNTS)
    extra = (
        f", {figures.chunks} chunks, of which notices {figures.notices_seconds:.1f} s "
        f"({figures.emails:,} e-mails rendered); {counts}"
        if figures.chunks
        else ""
    )
    say(
        f"  {name}: {figures.seconds:.1f} s, RSS {figures.rss_before_mb:.0f} -> "
        f"{figures.rss_peak_mb:.0f} MB{extra} [{figures.noise}]"
    )
    if figures.chunks:
        say(f"    {figures.sql_seconds:6.2f} s in all statements; the slowest:")
    for label, calls, seconds in figures.statements:
        say(f"    {seconds:6.2f} s {calls:>5} x {label}")


def run_scale(*, members: int, orders: int, chunk_size: int | None) -> Scale:
    as_of = program_today()
    load(members=members, orders=orders, as_of=as_of)
    tiers = tiers_by_rank()
    plain_before = _timed(as_of, plain=True, chunk_size=None)
    _report_run("plain SQL, before the job", plain_before)
    _vacuum_copy()
    job = _timed(as_of, plain=False, chunk_size=chunk_size)
    _report_run("job, first run", job)
    rerun = _timed(as_of, plain=False, chunk_size=chunk_size)
    _report_run("job, the same night again", rerun)
    plain_after = _timed(as_of, plain=True, chunk_size=None)
    _report_run("plain SQL, after the job", plain_after)
    problems = _check(as_of, [job, rerun], tiers)
    for problem in problems:
        say(f"  WRONG: {problem}")
    (loaded,) = _row("SELECT count(*) FROM shop_order")
    return Scale(members, loaded, plain_before, job, rerun, plain_after, problems)


def table(rows: list[Scale]) -> str:
    head = (
        f"{'members':>9} {'orders':>11} {'plain s':>13} {'job s':>7} {'mail s':>6} "
        f"{'again s':>7} {'job/plain':>9} {'again/job':>9} {'job RSS MB':>13} "
        f"{'up':>6} {'grace':>6} {'down':>6} {'nudged':>6} {'ok':>3}"
    )
    lines = [head]
    for row in rows:
        counts = row.job.counts
        lines.append(
            f"{row.members:>9,} {row.orders:>11,} "
            f"{f'{row.plain_before.seconds:.1f} / {row.plain_after.seconds:.1f}':>13} "
            f"{row.job.seconds:>7.1f} {row.job.notices_seconds:>6.1f} {row.rerun.seconds:>7.2f} "
            f"{row.ratio:>9.2f} {row.rerun_ratio:>9.3f} "
            f"{f'{row.job.rss_before_mb:.0f} -> {row.job.rss_peak_mb:.0f}':>13} "
            f"{counts.get('upgraded', 0):>6,} {counts.get('grace_started', 0):>6,} "
            f"{counts.get('downgraded', 0):>6,} {counts.get('nudged', 0):>6,} "
            f"{'no' if row.problems else 'yes':>3}"
        )
    return "\n".join(lines)


def run(*, members: int, orders: int, scales: list[float], chunk_size: int | None) -> None:
    say("== recalc_tiers: the nightly job vs one aggregate and one UPDATE in plain SQL ==")
    rows = [
        run_scale(
            members=max(1, round(members * scale)),
            orders=max(1, round(orders * scale)),
            chunk_size=chunk_size,
        )
        for scale in scales
    ]
    say()
    say(table(rows))
    say(
        "plain s: the baseline before / after the job; job s includes mail s (the notices "
        "claimed and rendered for the dummy e-mail backend); again: the same night re-run; "
        "job RSS MB: the job process's resident set before the job -> its peak (VmHWM)"
    )
    largest = rows[-1]
    say(
        f"target job <= {TARGET_RATIO:g} x plain SQL (the faster baseline) at "
        f"{largest.members:,} members: {largest.ratio:.2f} -> "
        f"{'met' if largest.ratio <= TARGET_RATIO else 'MISSED'}"
    )
    say(
        f"target same night again <= {TARGET_RERUN:g} x the first run: "
        f"{largest.rerun_ratio:.3f} -> {'met' if largest.rerun_ratio <= TARGET_RERUN else 'MISSED'}"
    )
    if len(rows) > 1:
        first = rows[0]
        say(
            f"memory as members grow {largest.members / max(first.members, 1):.1f}x: job RSS "
            f"growth {first.job.rss_growth_mb:.1f} -> {largest.job.rss_growth_mb:.1f} MB, "
            f"peak {first.job.rss_peak_mb:.0f} -> {largest.job.rss_peak_mb:.0f} MB"
        )
    wrong = sum(len(row.problems) for row in rows)
    say(f"correctness: {'all checks passed' if not wrong else f'{wrong} checks FAILED'}")
    say()


def main(args: argparse.Namespace) -> None:
    divisor = QUICK if args.quick else 1
    run(
        members=args.members // divisor,
        orders=args.orders // divisor,
        scales=args.scales,
        chunk_size=args.chunk_size,
    )
