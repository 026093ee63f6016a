"""segments: the nightly segments job beside one plain SQL statement computing
the same RFM scores on the same data.

The data is the tier benchmark's (`bench.tiers.load`: by default 1 million
members with about 10 million orders over 500 days). Then, in this process,
after a CHECKPOINT each:

1. the baseline: one CREATE TABLE ... AS over one aggregate of every member's
   orders of the 365 days, the NTILE(5) bounds and each member's scores;
2. the job, as `manage.py segments` runs it (chunks one after another, eager);
3. the same night again (every chunk skipped: what a second run costs);
4. the baseline again, on a cache the job has warmed.

Afterwards every member's scores are compared with the baseline's, and the next
night's job is timed too: what a night costs once the table exists (the job
writes only the members whose segment changed).
"""

import argparse
import datetime as dt
import time

from batch.runner import job_run
from batch.services import program_midnight
from campaigns.segments import RFM_WINDOW_DAYS

from .database import checkpoint, psycopg_connect, say
from .tiers import load

AS_OF = dt.date(2026, 11, 23)


def _baseline(as_of: dt.date) -> float:
    start = program_midnight(as_of - dt.timedelta(days=RFM_WINDOW_DAYS))
    cutoff = program_midnight(as_of)
    bounds = ", ".join(
        f"MAX(CASE WHEN {tile} = {n} THEN {value} END) AS {tile}{n}"
        for tile, value in (("rt", "last_at"), ("ft", "n"), ("mt", "spend"))
        for n in range(1, 5)
    )

    def score(value: str, tile: str) -> str:
        terms = " + ".join(f"(a.{value} > b.{tile}{n})::int" for n in range(1, 5))
        return f"1 + {terms}"

    started = time.perf_counter()
    with psycopg_connect() as conn:
        conn.execute("DROP TABLE IF EXISTS bench_rfm")
        conn.execute(
            f"""
            CREATE TABLE bench_rfm AS
            WITH a AS (
                SELECT member_id, MAX(placed_at) AS last_at, COUNT(*) AS n,
                       SUM(total_minor - refunded_minor) AS spend
                FROM shop_order
                WHERE placed_at >= %s AND placed_at < %s AND total_minor > refunded_minor
                GROUP BY member_id
            ), t AS (
                SELECT last_at, n, spend,
                       NTILE(5) OVER (ORDER BY last_at) AS rt,
                       NTILE(5) OVER (ORDER BY n) AS ft,
                       NTILE(5) OVER (ORDER BY spend) AS mt
                FROM a
            ), b AS (SELECT {bounds} FROM t)
            SELECT a.member_id, {score("last_at", "rt")} AS r, {score("n", "ft")} AS f,
                   {score("spend", "mt")} AS m
            FROM a CROSS JOIN b
            """,
            [start, cutoff],
        )
        conn.commit()
    return time.perf_counter() - started


def _job(as_of: dt.date, chunk_size: int | None) -> tuple[float, dict]:
    checkpoint()
    started = time.perf_counter()
    run = job_run(
        name="segments", as_of=as_of, **({"chunk_size": chunk_size} if chunk_size else {})
    )
    return time.perf_counter() - started, run.counts


def _differences() -> int:
    with psycopg_connect() as conn:
        row = conn.execute(
            """
            SELECT COUNT(*) FROM campaigns_membersegment s
            FULL JOIN bench_rfm b ON b.member_id = s.member_id
            WHERE s.recency IS DISTINCT FROM b.r OR s.frequency IS DISTINCT FROM b.f
               OR s.monetary IS DISTINCT FROM b.m
            """
        ).fetchone()
    return int(row[0]) if row else -1


def main(args: argparse.Namespace) -> None:
    members, orders = args.members, args.orders
    if args.quick:
        members, orders = members // 50, orders // 50
    load(members=members, orders=orders, as_of=AS_OF)
    checkpoint()
    plain = _baseline(AS_OF)
    say(f"baseline (one statement): {plain:.1f} s")
    job, counts = _job(AS_OF, args.chunk_size)
    say(f"segments job: {job:.1f} s ({job / plain:.2f}x the baseline) {counts}")
    again, counts = _job(AS_OF, args.chunk_size)
    say(f"segments again: {again:.1f} s ({again / plain:.2f}x the baseline) {counts}")
    checkpoint()
    warm = _baseline(AS_OF)
    say(f"baseline again (warm): {warm:.1f} s")
    differences = _differences()
    say(f"members whose scores differ from the baseline's: {differences}")
    following, counts = _job(AS_OF + dt.timedelta(days=1), args.chunk_size)
    say(
        f"segments, the next night: {following:.1f} s ({following / plain:.2f}x the baseline; "
        f"only the members whose segment changed are written) {counts}"
    )
    if differences:
        raise SystemExit(1)
