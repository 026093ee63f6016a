"""admin: the admin's list pages and the staff dashboard at scale, and the
nightly kpi_snapshot job that feeds the dashboard.

The data is the ledger generator's (`bench.generate`): by default 1 million
members and 30 million entries (30 lots a member, each with its order, entry
and lot), and one coupon a member. Then:

1. `kpi_snapshot` for one night, in a child process: wall time, memory (its
   resident set before and at its peak), and the same night again (every chunk
   skipped);
2. that night's snapshot copied to the 364 nights before, so the dashboard reads
   a year of rows;
3. each page, loaded 20 times through Django's test client as a superuser
   (the whole stack: middleware, admin, templates): p50 and p99, beside the
   page's own SQL statements (captured from one load) run 20 times on a plain
   psycopg connection, which is what the database alone costs.
"""

import argparse
import datetime as dt
import json
import statistics
import time

from .database import checkpoint, memory_mb, psycopg_connect, run_child, say
from .generate import begin_load, copy_rows, generate, reset_sequences, vacuum_analyze

AS_OF = dt.date(2026, 11, 23)
LOADS = 20


def _coupons(members: int) -> None:
    """One coupon a member: a tenth without an owner, kinds and sources mixed."""
    kinds = ["amount", "percent", "free_shipping", "gift"]
    sources = ["reward", "campaign", "tier", "staff"]

    def rows():
        for m in range(1, members + 1):
            owner = "\\N" if m % 10 == 0 else str(m)
            yield (
                f"{m}\tBENCH{m:010d}\t{kinds[m % 4]}\t{owner}\t{sources[m % 4]}\tREF{m % 100}\t"
                "2026-01-01 00:00:00+00\t1000\t10\t\n"
            )

    with psycopg_connect() as conn, conn.cursor() as cursor:
        begin_load(cursor, ["rewards_coupon"])
        copy_rows(
            cursor,
            "rewards_coupon",
            "id, code, kind, owner_id, source, source_ref, created_at, amount_minor, percent, "
            "void_reason",
            rows(),
        )
        reset_sequences(cursor, ["rewards_coupon"])
        conn.commit()
    vacuum_analyze(["rewards_coupon"])


def _year_of_snapshots() -> int:
    with psycopg_connect() as conn:
        copied = conn.execute(
            """
            INSERT INTO staff_kpisnapshot (day, metric, dimension, value)
            SELECT k.day - n, k.metric, k.dimension, k.value
            FROM staff_kpisnapshot k CROSS JOIN generate_series(1, 364) AS n
            """
        ).rowcount
        conn.commit()
    vacuum_analyze(["staff_kpisnapshot"])
    return copied


def job_child(args: argparse.Namespace) -> None:
    """`python -m bench _kpi_job`: one timed run of kpi_snapshot, as JSON."""
    from batch.runner import job_run
    from batch.services import DEFAULT_CHUNK_SIZE

    before = memory_mb("VmRSS")
    started = time.perf_counter()
    run = job_run(
        name="kpi_snapshot", as_of=args.as_of, chunk_size=args.chunk_size or DEFAULT_CHUNK_SIZE
    )
    seconds = time.perf_counter() - started
    if run.status != "succeeded":
        raise SystemExit(f"kpi_snapshot {run.status}: {run.error}")
    figures = {
        "seconds": seconds,
        "rss_before_mb": before,
        "rss_peak_mb": memory_mb("VmHWM"),
        "chunks": run.chunks_total,
        "counts": run.counts,
    }
    print(json.dumps(figures))


def _job(chunk_size: int | None) -> dict:
    checkpoint()
    arguments = ["--as-of", str(AS_OF)]
    if chunk_size:
        arguments += ["--chunk-size", str(chunk_size)]
    return run_child("_kpi_job", *arguments)


def _percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return f"p50 {1000 * statistics.median(ordered):7.1f} ms, p99 {1000 * p99:7.1f} ms"


def _pages(members: int) -> list[tuple[str, str]]:
    number = f"M{members // 2:08d}"
    return [
        ("members", "/admin/members/member/"),
        ("members, page 200", "/admin/members/member/?p=200"),
        ("members, frozen", "/admin/members/member/?status__exact=frozen"),
        ("member by number", f"/admin/members/member/?q={number}"),
        ("member by e-mail", f"/admin/members/member/?q=m{members // 3}@bench.example"),
        ("member page", f"/admin/members/member/{members // 2}/change/"),
        ("entries", "/admin/points/entry/"),
        ("entries, adjustments", "/admin/points/entry/?kind__exact=adjust"),
        ("entries of a member", f"/admin/points/entry/?q={number}"),
        ("entries of an order", f"/admin/points/entry/?q=B{members:010d}"),
        ("orders", "/admin/shop/order/"),
        ("order by id", f"/admin/shop/order/?q=B{members:010d}"),
        ("orders of a member", f"/admin/shop/order/?q={number}"),
        ("coupons", "/admin/rewards/coupon/"),
        ("coupons, gifts", "/admin/rewards/coupon/?kind__exact=gift"),
        ("coupon by code", f"/admin/rewards/coupon/?q=BENCH{members // 4:010d}"),
        ("fraud review queue", "/admin/staff/fraudflag/"),
        ("dashboard (a year)", "/admin/dashboard/"),
        ("dashboard CSV", "/admin/dashboard/points.csv"),
    ]


def _time_pages(members: int) -> None:
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from members.models import User

    settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
    staff = User.objects.create_superuser(email="bench-staff@example.com", password=None)
    client = Client(HTTP_HOST="localhost")
    client.force_login(staff)
    say(f"{'page':<24} {'the page (' + str(LOADS) + ' loads)':<36} its SQL alone")
    for name, url in _pages(members):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url}: {response.status_code}")
        statements = [query["sql"] for query in captured.captured_queries]
        page = []
        for _ in range(LOADS):
            started = time.perf_counter()
            client.get(url)
            page.append(time.perf_counter() - started)
        plain = []
        with psycopg_connect(autocommit=True) as conn:
            for _ in range(LOADS):
                started = time.perf_counter()
                for statement in statements:
                    conn.execute(statement.replace("%", "%%")).fetchall()
                plain.append(time.perf_counter() - started)
        say(
            f"{name:<24} {_percentiles(page):<36} {_percentiles(plain)} "
            f"({len(statements)} statements)"
        )


def main(args: argparse.Namespace) -> None:
    members, entries = args.members, args.entries
    if args.quick:
        members, entries = members // 50, entries // 50
    generate(
        members=members,
        lots_per_member=max(1, entries // members),
        due_fraction=0.2,
        orders=True,
        as_of=AS_OF,
    )
    _coupons(members)
    first = _job(args.chunk_size)
    say(
        f"kpi_snapshot: {first['seconds']:.1f} s over {first['chunks']} chunks, "
        f"memory {first['rss_before_mb']:.0f} MB -> peak {first['rss_peak_mb']:.0f} MB "
        f"{first['counts']}"
    )
    again = _job(args.chunk_size)
    say(f"kpi_snapshot again (every chunk skipped): {again['seconds']:.1f} s {again['counts']}")
    say(f"snapshot rows copied to the 364 nights before: {_year_of_snapshots():,}")
    _time_pages(members)
