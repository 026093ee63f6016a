"""Order intake over HTTP: POST /api/v1/orders through gunicorn, as a shop reports
its orders, beside the ceiling of the same stack (a trivial JSON view), on the
same server in the same run, from the same keep-alive client.

Set-up: a fresh ledger (`bench.generate`: members with a verified e-mail, a few
lots and their orders each), the night's `recalc_tiers` over it, an API key made
by `manage.py create_api_key`, and gunicorn serving `bench.server` (the
project's URLs plus the trivial view) on that database with production settings:
DEBUG off, the client saying X-Forwarded-Proto: https as the TLS proxy in front
of the site would. The workers are gunicorn's gthread class: its default sync
worker closes the connection after every response, gthread keeps it open.

The client (`bench/http_client.py`): `connections` threads of this process, each
with one persistent HTTP/1.1 connection (http.client). Each connection first
asks the trivial view which worker it reached (and is opened again while that
worker already holds its share of the connections), then sends a few warm-up
requests; the clock starts once all of them are ready. The phases, each on
new connections:

1. ceiling: GET /bench/ceiling, each connection sending again as soon as its
   answer comes (closed loop): the most requests per second the stack answers.
2. orders: POST /api/v1/orders the same way; every order is new (its own order
   id), for a random member, placed minutes ago, in CNY, with 1-3 lines.
   Phases 1 and 2 alternate `rounds` times and their rates are summed over the
   rounds: the speed of a shared 2-core machine drifts by a third from one
   minute to the next, so a ceiling measured once and the orders after it
   compared the machine's two moods as much as the two endpoints.
   Then the trivial view at /api/bench/ceiling, through the API's shorter
   middleware chain (loyalty_site/wsgi.py), for comparison.
3. orders paced at PACED_SHARE (half) of the rate phase 2 reached (open loop):
   each request is due at a fixed time and its latency counts from then, so an
   answer that comes late shows in the figures instead of slowing the clock
   down. This is the latency a shop sees while the server has room to spare.

Rates count 2xx answers; latencies are those of every request in the window.
Afterwards `manage.py ledger_audit` checks the ledger, and the orders, their
ledger entries, lines and points are counted against the answers.
"""

import argparse
import functools
import io
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.core.management import call_command
from django.db.models import Count, F, Sum
from django.test.utils import override_settings

from batch.runner import job_run
from batch.services import program_today
from points.models import Entry
from shop.models import Order, OrderLine

from .database import say
from .generate import generate
from .http_client import (
    HOST,
    Connection,
    Phase,
    Tally,
    api_ceiling_work,
    ceiling_work,
    order_work,
    phase,
    rounds_combined,
)

API_KEY_NAME = "Benchmark shop"
TARGET_SHARE = 0.20  # order intake at least this share of the ceiling's rate...
TARGET_P99_MS = 100.0  # ...with its 99th percentile latency under this...
PACED_SHARE = 0.5  # ...while orders are offered at this share of the rate reached
START_TIMEOUT = 60.0  # seconds for gunicorn to answer


@dataclass(frozen=True)
class Ledger:
    clean: bool
    audit: list[str]  # ledger_audit's output
    orders: int
    entries: int
    points: int
    lines: int


@dataclass(frozen=True)
class Result:
    ceiling: Phase
    api_ceiling: Phase
    orders: Phase
    paced: Phase
    ledger: Ledger

    @property
    def ratio(self) -> float:
        return self.orders.rate / self.ceiling.rate if self.ceiling.rate else 0.0

    @property
    def api_ratio(self) -> float:
        return self.orders.rate / self.api_ceiling.rate if self.api_ceiling.rate else 0.0


# -- the server --


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(*, workers: int, threads: int) -> Iterator[int]:
    """gunicorn serving bench.server on the benchmark database (DATABASE_URL, as
    set up); yields its port once it answers, stops it afterwards."""
    port = _free_port()
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
        "LOG_LEVEL": "WARNING",
        "API_RATE_LIMIT": "",  # one key sends thousands of requests a second
        # The tasks an order asks for (an upgraded member's notice to send) are
        # published to a broker, as in production, not run in the request as
        # without one: an in-process broker nobody consumes from.
        "CELERY_BROKER_URL": "memory://",
        "CELERY_RESULT_BACKEND": "",
    }
    # The site's gunicorn.conf.py (gthread, keep-alive), with this many workers and threads.
    command = [
        sys.executable, "-m", "gunicorn", "bench.server:application",
        "--config", str(settings.BASE_DIR / "gunicorn.conf.py"),
        "--bind", f"{HOST}:{port}",
        "--workers", str(workers),
        "--threads", str(threads),
    ]  # fmt: skip
    with tempfile.TemporaryFile("w+") as log:
        server = subprocess.Popen(  # noqa: S603 - this interpreter, our arguments
            command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            _wait_until_answering(server, port, log, workers)
            yield port
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        log.seek(0)
        errors = [line for line in log if "Traceback" in line or "ERROR" in line]
        if errors:
            say(f"  the server logged {len(errors)} error(s), the first: {errors[0].strip()}")


def _wait_until_answering(server: subprocess.Popen, port: int, log: IO[str], workers: int) -> None:
    """Until each of the `workers` has answered (new connections land on any)."""
    answered: set[int] = set()
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"gunicorn exited with {server.returncode}:\n{log.read()}")
        probe = Connection(port, "", Tally())
        try:
            answered.add(probe.worker())
        except RuntimeError:
            time.sleep(0.2)
        finally:
            probe.close()
        if len(answered) == workers:
            return
    raise RuntimeError(
        f"{len(answered)} of {workers} gunicorn workers answered within {START_TIMEOUT:g} s"
    )


# -- set-up and checks, in this process, on the same database --


def _evaluate_tiers() -> None:
    """The night's `recalc_tiers`, so that every member has the tier its spend
    earns before the orders come, as on any day after the first night (the
    notices it writes are e-mailed nowhere)."""
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
        run = job_run(name="recalc_tiers", as_of=program_today())
    if run.status != "succeeded":
        raise RuntimeError(f"recalc_tiers {run.status}: {run.error}")
    say(f"  recalc_tiers: {run.counts}")


def _api_key() -> str:
    """A key made as an operator makes one: `manage.py create_api_key`."""
    out = io.StringIO()
    call_command("create_api_key", API_KEY_NAME, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip()


def _ledger() -> Ledger:
    out = io.StringIO()
    try:
        call_command("ledger_audit", stdout=out, stderr=out)
        clean = True
    except SystemExit as stopped:
        clean = not stopped.code
    orders = Order.objects.filter(api_key__name=API_KEY_NAME)
    entries = Entry.objects.filter(
        source_type=Entry.Source.ORDER, source_ref__in=orders.values("order_id")
    ).aggregate(count=Count("id"), points=Sum(F("amount") + F("pending_change")))
    return Ledger(
        clean=clean,
        audit=out.getvalue().splitlines(),
        orders=orders.count(),
        entries=entries["count"],
        points=entries["points"] or 0,
        lines=OrderLine.objects.filter(order__in=orders).count(),
    )


# -- the whole benchmark --


def table(phases: list[Phase]) -> str:
    lines = [
        f"{'phase':<22} {'conns':>5} {'requests':>9} {'req/s':>8} {'p50 ms':>7} "
        f"{'p99 ms':>7} {'not 2xx':>7}"
    ]
    for p in phases:
        lines.append(
            f"{p.name:<22} {p.connections:>5} {len(p.tally.latencies):>9,} {p.rate:>8.1f} "
            f"{p.percentile_ms(50):>7.1f} {p.percentile_ms(99):>7.1f} {p.tally.unsuccessful:>7,}"
        )
    return "\n".join(lines)


def verdict(result: Result) -> list[str]:
    ceiling, orders, paced = result.ceiling, result.orders, result.paced
    share_met = result.ratio >= TARGET_SHARE
    p99 = paced.percentile_ms(99)
    latency_met = paced.kept_up and p99 < TARGET_P99_MS
    behind = "" if paced.kept_up else f" (answered only {paced.rate:.1f}/s: fell behind)"
    return [
        f"orders/s / ceiling/s: {orders.rate:.1f} / {ceiling.rate:.1f} = {result.ratio:.2f}",
        f"orders/s / ceiling through the API's middleware/s: {orders.rate:.1f} / "
        f"{result.api_ceiling.rate:.1f} = {result.api_ratio:.2f}",
        f"target (order intake >= {TARGET_SHARE:.0%} of the ceiling): {result.ratio:.2f} -> "
        + ("met" if share_met else "MISSED"),
        f"target (p99 < {TARGET_P99_MS:g} ms at {PACED_SHARE:.0%} of the orders' rate, "
        f"{paced.offered or 0:.1f} orders/s): p99 {p99:.1f} ms{behind} -> "
        + ("met" if latency_met else "MISSED"),
    ]


def _check(result: Result) -> list[str]:
    ledger = result.ledger
    phases = (result.orders, result.paced)
    answered = sum(p.tally.successes for p in phases)
    created = sum(p.tally.created for p in phases)
    points = sum(p.tally.points for p in phases)
    lines = sum(p.tally.lines for p in phases)
    unsuccessful = sum(p.tally.unsuccessful for p in (result.ceiling, result.api_ceiling, *phases))
    consistent = (
        ledger.orders == ledger.entries == created == answered
        and ledger.points == points
        and ledger.lines == lines
    )
    report = [
        "ledger_audit: "
        + ("clean" if ledger.clean else "BROKEN")
        + (f" ({ledger.audit[-1]})" if ledger.audit else ""),
        f"orders: {answered:,} answered 2xx ({created:,} created); in the database "
        f"{ledger.orders:,} orders, {ledger.entries:,} ledger entries, {ledger.lines:,} lines, "
        f"{ledger.points:,} points (answers: {lines:,} lines, {points:,} points) -> "
        + ("consistent" if consistent else "INCONSISTENT"),
        f"requests without a 2xx answer: {unsuccessful:,}",
    ]
    if not ledger.clean:
        report += [f"  {line}" for line in ledger.audit[:10]]
    for p in (result.ceiling, result.api_ceiling, *phases):
        report += [f"  {p.name}: {sample}" for sample in p.tally.samples]
    return report


CAMPAIGNS_SHARE = 0.80  # with --campaigns, orders at least this share of the rate with none


def _campaign_documents(count: int) -> list[dict]:
    """`count` active campaigns of the mix a programme runs at once, every one
    evaluated for every order and a few of them applying to any one: a
    multiplier per category (an order's lines meet one to three), per weekday
    and per member day, bonuses over rising totals, welcome (the bench members
    have ordered before) and a multiplier for Diamond only; half of them
    stackable, the best of the others winning."""
    kinds: list[dict] = [
        *(
            {"kind": "multiplier", "conditions": {"categories": [category]}}
            for category in ("tea", "teaware", "snacks", "gifts")
        ),
        *({"kind": "multiplier", "conditions": {"weekdays": [day]}} for day in (1, 2, 3, 4)),
        *({"kind": "member_day", "conditions": {"days_of_month": [day]}} for day in (1, 8, 15, 22)),
        *(
            {"kind": "order_bonus", "conditions": {"min_total": total}, "reward": {"points": 50}}
            for total in ("200.00", "400.00", "600.00", "800.00")
        ),
        {"kind": "welcome", "reward": {"points": 100}},
        {"kind": "multiplier", "target": {"tiers": ["diamond"]}},
    ]
    return [
        {
            "code": f"bench-{n}",
            "name": f"Bench campaign {n}",
            "priority": n,
            "stackable": n % 2 == 0,
            "reward": {"multiplier": "1.5"},
            **kinds[n % len(kinds)],
        }
        for n in range(count)
    ]


def _campaigns_activate(count: int) -> None:
    """Save the campaigns, then wait until every worker reads them: each keeps
    the active campaigns it read for CAMPAIGN_CACHE_SECONDS, as long as a phase,
    so without the wait part of the phase ran without them."""
    from campaigns.catalogue import campaign_save
    from campaigns.documents import document_parse

    for data in _campaign_documents(count):
        campaign_save(document=document_parse(data))
    time.sleep(settings.CAMPAIGN_CACHE_SECONDS)
    say(f"  {count} active campaigns saved")


def run(
    *,
    members: int,
    lots_per_member: int,
    connections: int,
    workers: int,
    threads: int,
    duration: float,
    rounds: int,
    campaigns: int = 0,
) -> Result:
    say("== order intake over HTTP: POST /api/v1/orders vs the stack's ceiling ==")
    generate(members=members, lots_per_member=lots_per_member, due_fraction=0.0)
    _evaluate_tiers()
    key = _api_key()
    with serving(workers=workers, threads=threads) as port:
        say(
            f"  gunicorn on {HOST}:{port}: {workers} workers x {threads} threads (gthread), "
            f"DEBUG off; {connections} keep-alive connections, {duration:g} s per phase, "
            f"{rounds} round(s) of ceiling and orders"
        )
        measure = functools.partial(
            phase,
            port=port,
            key=key,
            connections=connections,
            workers=workers,
            duration=duration,
        )
        ceilings, orders_rounds = [], []
        for round_ in range(1, rounds + 1):
            ceilings.append(measure(f"ceiling {round_}", work=ceiling_work))
            say(ceilings[-1].describe())
            orders_rounds.append(measure(f"orders {round_}", work=order_work(members)))
            say(orders_rounds[-1].describe())
        ceiling = rounds_combined("ceiling", ceilings)
        orders = rounds_combined("orders", orders_rounds)
        by_round = zip(ceilings, orders_rounds, strict=True)
        say(
            "  orders / ceiling, round by round: "
            + ", ".join(f"{o.rate / c.rate:.2f}" for c, o in by_round)
        )
        api_ceiling = measure("ceiling, API's chain", work=api_ceiling_work)
        say(api_ceiling.describe())
        paced = measure("orders paced", work=order_work(members), rate=PACED_SHARE * orders.rate)
        say(paced.describe())
        result = Result(ceiling, api_ceiling, orders, paced, _ledger())
        if campaigns:
            _campaigns_activate(campaigns)
            with_campaigns = measure(f"orders, {campaigns} campaigns", work=order_work(members))
            say(with_campaigns.describe())
            share = with_campaigns.rate / orders.rate if orders.rate else 0.0
            say(
                f"  with {campaigns} active campaigns: {share:.2f} of the rate with none "
                f"(target at least {CAMPAIGNS_SHARE:.2f}): "
                + ("met" if share >= CAMPAIGNS_SHARE else "NOT met")
            )
            after = _ledger()
            say(
                f"  that phase: {with_campaigns.tally.created:,} orders created, "
                f"{after.orders - result.ledger.orders:,} more in the database; ledger_audit "
                + ("clean" if after.clean else "BROKEN")
            )
    say()
    say(table([ceiling, api_ceiling, orders, paced]))
    for line in verdict(result) + _check(result):
        say(line)
    say()
    return result


def main(args: argparse.Namespace) -> None:
    run(
        members=args.members,
        lots_per_member=args.lots_per_member,
        connections=args.connections,
        workers=args.workers,
        threads=args.threads,
        duration=args.duration,
        rounds=args.rounds,
        campaigns=args.campaigns,
    )
