"""expire_points: the real nightly job beside one plain SQL statement doing the
same expiry on a copy of the same data.

For each size (by default a fifth of the scale, then all of it: 5 million lots of
which 1 million are due), a fresh ledger is generated, then:

1. `points_lot`, `points_account`, `points_entry` and `points_lotuse` are copied
   (`bench_*`, with the same indexes, check constraints and foreign keys), and one
   statement with data-modifying CTEs expires the due lots of the copy: the lots
   emptied, one `expire` entry per member, the balances lowered, a lot use per
   lot; as the job does.
2. The job runs on the originals, exactly as `manage.py expire_points` runs it
   (`batch.runner.job_run`, chunks one after another in-process, Celery being
   eager), in a child process that does nothing else, so that its memory is the
   job's: the peak resident set size (`VmHWM`) above what the process held
   before the job started, and the `tracemalloc` peak of Python allocations
   during the job (tracemalloc is on while the job is timed).
3. Both results are compared row by row (balances, lots, the expire entries and
   lot uses must be the same).

Both are timed from the statement's start to its commit, on a checkpointed
server, with autovacuum kept off the copies so that it cannot land in the job's
time.
"""

import argparse
import datetime as dt
import json
import re
import time
import tracemalloc
from dataclasses import dataclass

from django.utils import timezone

from points.ledger_sql import NIGHTLY_FINGERPRINT, expiry_key

from .arguments import QUICK
from .database import TimedRun, checkpoint, memory_mb, psycopg_connect, run_child, say
from .generate import Loaded, generate

COPIED = ["points_lot", "points_account", "points_entry", "points_lotuse"]
TARGET_RATIO = 2.0  # the job may take at most twice the plain statement's time

PLAIN = """
WITH due AS (
    SELECT id, member_id, remaining FROM bench_lot
    WHERE NOT pending AND remaining > 0 AND expires_at <= %(cutoff)s
), zeroed AS (
    UPDATE bench_lot l SET remaining = 0 FROM due WHERE l.id = due.id
    RETURNING l.id, l.member_id, due.remaining AS points
), per_member AS (
    SELECT member_id, sum(points) AS points FROM zeroed GROUP BY member_id
), accounts AS (
    UPDATE bench_account a SET available = a.available - p.points, updated_at = %(now)s
    FROM per_member p WHERE a.member_id = p.member_id
    RETURNING a.member_id, a.available, a.pending, p.points
), entries AS (
    INSERT INTO bench_entry (member_id, kind, amount, pending_change, balance_after,
        pending_after, source_type, source_ref, idempotency_key, fingerprint, reason,
        effective_at, created_at)
    SELECT member_id, 'expire', -points, 0, available, pending, 'system', 'expiry',
        %(key)s, %(fingerprint)s, '', %(cutoff)s, %(now)s
    FROM accounts
    RETURNING id, member_id
)
INSERT INTO bench_lotuse (entry_id, lot_id, points)
SELECT e.id, z.id, z.points FROM zeroed z JOIN entries e USING (member_id)
"""


@dataclass
class JobFigures(TimedRun):
    members_expired: int
    chunks: int
    tracemalloc_peak_mb: float


@dataclass
class Row:
    size: float
    loaded: Loaded
    plain_seconds: float
    job: JobFigures
    same: bool

    @property
    def ratio(self) -> float:
        return self.job.seconds / self.plain_seconds if self.plain_seconds else 0.0


# -- the copy and the plain statement --


def _copy_tables() -> None:
    """bench_* copies with the originals' columns, indexes (built after the rows
    are in, as a restore would), check constraints, identity and foreign keys
    (to the copies where the target is copied; NOT VALID: the rows are known
    good, and new rows are checked as on the originals)."""
    started = time.perf_counter()
    copies = {table: table.replace("points_", "bench_") for table in COPIED}
    with psycopg_connect() as conn, conn.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '256MB'")
        for table, copy in copies.items():
            cursor.execute(f"DROP TABLE IF EXISTS {copy} CASCADE")
            cursor.execute(
                f"CREATE TABLE {copy} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
                "INCLUDING IDENTITY) WITH (autovacuum_enabled = false)"
            )
            cursor.execute(f"INSERT INTO {copy} SELECT * FROM {table}")
            if table != "points_account":  # keyed by member, no sequence
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{copy}', 'id'), "
                    f"(SELECT coalesce(max(id), 0) + 1 FROM {copy}), false)"
                )
            definitions = cursor.execute(
                "SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = %s::regclass",
                [table],
            ).fetchall()
            for number, (definition,) in enumerate(definitions):
                cursor.execute(
                    re.sub(
                        r"^(CREATE (?:UNIQUE )?INDEX) \S+ ON (?:public\.)?\S+ ",
                        rf"\1 {copy}_{number} ON {copy} ",
                        definition,
                    )
                )
        for table, copy in copies.items():
            foreign_keys = cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype = 'f'",
                [table],
            ).fetchall()
            for number, (_name, definition) in enumerate(foreign_keys):
                for original, copied in copies.items():
                    definition = re.sub(
                        rf"REFERENCES {original}\(", f"REFERENCES {copied}(", definition
                    )
                cursor.execute(
                    f"ALTER TABLE {copy} ADD CONSTRAINT {copy}_fk_{number} {definition} NOT VALID"
                )
        conn.commit()
    with psycopg_connect(autocommit=True) as conn:
        for copy in copies.values():
            conn.execute(f"VACUUM (ANALYZE) {copy}")
    say(f"  copied {', '.join(COPIED)} in {time.perf_counter() - started:.1f} s")


def _run_plain(loaded: Loaded) -> float:
    checkpoint()
    params = {
        "cutoff": loaded.cutoff,
        "now": timezone.now(),
        "key": expiry_key(loaded.cutoff),
        "fingerprint": NIGHTLY_FINGERPRINT,
    }
    with psycopg_connect() as conn:
        started = time.perf_counter()
        conn.execute(PLAIN, params)
        conn.commit()
        seconds = time.perf_counter() - started
    say(f"  plain SQL: {seconds:.1f} s")
    return seconds


# -- the job, in a child process --


def job_child(args: argparse.Namespace) -> None:
    """`python -m bench _expire_job`: run the job once, print its figures as JSON."""
    from batch.runner import job_run
    from batch.services import DEFAULT_CHUNK_SIZE

    chunk_size = args.chunk_size or DEFAULT_CHUNK_SIZE
    before = memory_mb("VmRSS")
    tracemalloc.start()
    started = time.perf_counter()
    run = job_run(name="expire_points", as_of=args.as_of, chunk_size=chunk_size)
    seconds = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    if run.status != "succeeded":
        raise SystemExit(f"expire_points {run.status}: {run.error}")
    figures = JobFigures(
        seconds=seconds,
        members_expired=int(run.counts.get("members_expired", 0)),
        chunks=run.chunks_total,
        rss_before_mb=before,
        rss_peak_mb=memory_mb("VmHWM"),
        tracemalloc_peak_mb=peak / 2**20,
    )
    print(json.dumps(figures.__dict__))


def _run_job(loaded: Loaded, chunk_size: int | None) -> JobFigures:
    checkpoint()
    arguments = ["--as-of", str(loaded.as_of)]
    if chunk_size:
        arguments += ["--chunk-size", str(chunk_size)]
    figures = JobFigures(**run_child("_expire_job", *arguments))
    say(
        f"  job: {figures.seconds:.1f} s, {figures.chunks} chunks, "
        f"{figures.members_expired:,} members expired"
    )
    return figures


# -- comparing the two results --


def _same_result(cutoff: dt.datetime) -> bool:
    checks = {
        "balances": "SELECT count(*) FROM points_account a JOIN bench_account b USING (member_id) "
        "WHERE a.available <> b.available OR a.pending <> b.pending",
        "lots": "SELECT count(*) FROM points_lot a JOIN bench_lot b USING (id) "
        "WHERE a.remaining <> b.remaining",
        "entries": "SELECT count(*) FROM (SELECT member_id, amount, balance_after "
        "FROM points_entry WHERE kind = 'expire' EXCEPT SELECT member_id, amount, "
        "balance_after FROM bench_entry WHERE kind = 'expire') d",
        "entry count": "SELECT (SELECT count(*) FROM points_entry WHERE kind = 'expire') - "
        "(SELECT count(*) FROM bench_entry WHERE kind = 'expire')",
        "lot uses": "SELECT count(*) FROM (SELECT lot_id, points FROM points_lotuse EXCEPT "
        "SELECT lot_id, points FROM bench_lotuse) d",
        "lot use count": "SELECT (SELECT count(*) FROM points_lotuse) - "
        "(SELECT count(*) FROM bench_lotuse)",
        "due lots left": "SELECT count(*) FROM points_lot "
        "WHERE NOT pending AND remaining > 0 AND expires_at <= %s",
    }
    differences = {}
    with psycopg_connect() as conn:
        for name, query in checks.items():
            params = [cutoff] if "%s" in query else []
            value = conn.execute(query, params).fetchone()[0]
            if value:
                differences[name] = value
    if differences:
        say(f"  RESULTS DIFFER: {differences}")
    return not differences


# -- the whole benchmark --


def table(rows: list[Row]) -> str:
    head = (
        f"{'size':>5} {'lots':>10} {'due':>10} {'members':>9} {'job s':>8} {'plain s':>8} "
        f"{'ratio':>6} {'job RSS +MB':>11} {'py peak MB':>10} {'same':>5}"
    )
    lines = [head]
    for row in rows:
        lines.append(
            f"{row.size:>5g} {row.loaded.lots:>10,} {row.loaded.due_lots:>10,} "
            f"{row.loaded.members:>9,} {row.job.seconds:>8.1f} {row.plain_seconds:>8.1f} "
            f"{row.ratio:>6.2f} {row.job.rss_growth_mb:>11.1f} "
            f"{row.job.tracemalloc_peak_mb:>10.1f} {'yes' if row.same else 'NO':>5}"
        )
    return "\n".join(lines)


def run(
    *,
    members: int,
    lots_per_member: int,
    due_fraction: float,
    sizes: list[float],
    chunk_size: int | None,
    orders: bool,
) -> list[Row]:
    say("== expire_points: the job vs one plain SQL statement ==")
    rows = []
    for size in sizes:
        loaded = generate(
            members=max(1, round(members * size)),
            lots_per_member=lots_per_member,
            due_fraction=due_fraction,
            orders=orders,
        )
        _copy_tables()
        plain = _run_plain(loaded)
        job = _run_job(loaded, chunk_size)
        rows.append(Row(size, loaded, plain, job, _same_result(loaded.cutoff)))
    say()
    say(table(rows))
    say(
        "job RSS +MB: the job process's peak resident set (VmHWM) above its size "
        "before the job; py peak MB: tracemalloc's peak during the job"
    )
    largest = rows[-1]
    met = "met" if largest.ratio <= TARGET_RATIO else "MISSED"
    say(
        f"target (job <= {TARGET_RATIO:g} x plain SQL) at {largest.loaded.lots:,} lots: "
        f"{largest.ratio:.2f} -> {met}"
    )
    if len(rows) > 1:
        first = rows[0]
        grows = largest.loaded.lots / max(first.loaded.lots, 1)
        say(
            f"memory as the data grows {grows:.1f}x: RSS growth "
            f"{first.job.rss_growth_mb:.1f} -> {largest.job.rss_growth_mb:.1f} MB, "
            f"Python peak {first.job.tracemalloc_peak_mb:.1f} -> "
            f"{largest.job.tracemalloc_peak_mb:.1f} MB"
        )
    say()
    return rows


def main(args: argparse.Namespace) -> None:
    members = args.members // QUICK if args.quick else args.members
    run(
        members=members,
        lots_per_member=args.lots_per_member,
        due_fraction=args.due_fraction,
        sizes=args.sizes,
        chunk_size=args.chunk_size,
        orders=not args.no_orders,
    )
