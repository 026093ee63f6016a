"""Order intake over HTTP: POST /api/v1/orders through gunicorn, as a shop reports
its orders, beside the ceiling of the same stack (a trivial JSON view), on the
same server in the same run, from the same keep-alive client.

Set-up: a fresh ledger (`bench.generate`: members with a verified e-mail and a
few lots each), an API key made by `manage.py create_api_key`, and gunicorn
serving `bench.server` (the project's URLs plus the trivial view) on that
database with production settings: DEBUG off, the client saying
X-Forwarded-Proto: https as the TLS proxy in front of the site would. The
workers are gunicorn's gthread class: its default sync worker closes the
connection after every response, gthread keeps it open.

The client: `connections` threads of this process, each with one persistent
HTTP/1.1 connection (http.client). Each connection first asks the trivial view
which worker it reached (and is opened again while that worker already holds its
share of the connections), then sends a few warm-up requests; the clock starts
once all of them are ready. Three phases, each on new connections:

1. ceiling: GET /bench/ceiling, each connection sending again as soon as its
   answer comes (closed loop): the most requests per second the stack answers.
2. orders: POST /api/v1/orders the same way; every order is new (its own order
   id), for a random member, placed minutes ago, in CNY, with 1-3 lines.
3. orders paced at TARGET_SHARE of the ceiling's rate (open loop): each request
   is due at a fixed time and its latency counts from then, so an answer that
   comes late shows in the figures instead of slowing the clock down.

Rates count 2xx answers; latencies are those of every request in the window.
Afterwards `manage.py ledger_audit` checks the ledger, and the orders, their
ledger entries, lines and points are counted against the answers.
"""

import argparse
import datetime as dt
import functools
import http.client
import io
import itertools
import json
import math
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management import call_command
from django.db.models import Count, F, Sum

from members.models import Order, OrderLine
from points.models import Entry

from .database import say
from .generate import generate

HOST = "127.0.0.1"
CEILING = "/bench/ceiling"  # bench/server.py
ORDERS = "/api/v1/orders"
API_KEY_NAME = "Benchmark shop"
TARGET_SHARE = 0.30  # order intake at least this share of the ceiling's rate...
TARGET_P99_MS = 100.0  # ...with its 99th percentile latency under this, at that rate
KEPT_UP = 0.95  # a paced phase that answers less than this share of its rate fell behind
WARM_UP = 5  # requests per connection before the clock starts
PLACEMENT_TRIES = 200  # connections opened, at most, to give one its worker
TIMEOUT = 30.0  # seconds to wait for an answer
START_TIMEOUT = 60.0  # seconds for gunicorn to answer
KEEP_ALIVE = 30  # seconds gunicorn keeps an idle connection (the client waits between phases)
SAMPLES = 3  # bodies of unexpected answers kept per phase
# sku, category, unit price in fen
CATALOGUE = [
    ("TEA-1", "tea", 16_495),
    ("TEA-7", "tea", 8_800),
    ("CUP-2", "teaware", 4_590),
    ("POT-3", "teaware", 32_900),
    ("SNK-4", "snacks", 1_250),
    ("GFT-5", "gifts", 19_900),
]
SHIPPING = (0, 1_000, 1_500)  # fen


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes | None = None
    lines: int = 0  # order lines in the body


Work = Callable[[random.Random, str], Request]  # (the connection's rng, a unique id)


@dataclass
class Tally:
    """What one connection, then a whole phase, saw."""

    latencies: list[float] = field(default_factory=list)  # seconds, the window's requests
    ok: int = 0  # 2xx answers in the window
    seconds: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)  # every answer, warm-up included
    failures: Counter[str] = field(default_factory=Counter)  # no answer: the exception's name
    samples: list[str] = field(default_factory=list)  # unexpected answers
    created: int = 0  # answers 201, warm-up included
    points: int = 0  # the points they say were earned
    lines: int = 0  # the lines of their orders
    opened: int = 0  # TCP connections opened in the window (keep-alive: none)

    def add(self, other: "Tally") -> None:
        self.latencies += other.latencies
        self.ok += other.ok
        self.seconds = max(self.seconds, other.seconds)
        self.statuses += other.statuses
        self.failures += other.failures
        self.samples += other.samples[: SAMPLES - len(self.samples)]
        self.created += other.created
        self.points += other.points
        self.lines += other.lines
        self.opened += other.opened

    @property
    def successes(self) -> int:
        return sum(count for status, count in self.statuses.items() if 200 <= status < 300)

    @property
    def unsuccessful(self) -> int:
        return sum(self.statuses.values()) - self.successes + sum(self.failures.values())


@dataclass
class Phase:
    name: str
    connections: int
    tally: Tally
    workers: Counter[int]  # connections per worker pid
    client_cpu: float  # seconds of this process's CPU during the window
    offered: float | None = None  # paced: requests per second due

    @property
    def rate(self) -> float:
        return self.tally.ok / self.tally.seconds if self.tally.seconds else 0.0

    def percentile_ms(self, percent: float) -> float:
        ordered = sorted(self.tally.latencies)
        if not ordered:
            return math.nan
        return 1000 * ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)]

    @property
    def kept_up(self) -> bool:
        return self.offered is None or self.rate >= KEPT_UP * self.offered

    def describe(self) -> str:
        spread = "+".join(str(count) for count in sorted(self.workers.values()))
        statuses = ", ".join(f"{s}: {n:,}" for s, n in sorted(self.tally.statuses.items()))
        failures = ", ".join(f"{name}: {n:,}" for name, n in self.tally.failures.items())
        offered = f", {self.offered:.1f}/s offered" if self.offered is not None else ""
        return (
            f"  {self.name}: {self.rate:.1f}/s{offered}, p50 {self.percentile_ms(50):.1f} ms, "
            f"p99 {self.percentile_ms(99):.1f} ms; answers {statuses}"
            + (f"; no answer {failures}" if failures else "")
            + f"; connections per worker {spread}, {self.tally.opened} reopened; "
            f"client CPU {self.client_cpu / max(self.tally.seconds, 1e-9):.0%} of a core"
        )


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
    orders: Phase
    paced: Phase
    ledger: Ledger

    @property
    def ratio(self) -> float:
        return self.orders.rate / self.ceiling.rate if self.ceiling.rate else 0.0


# -- the requests --


def _money(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def order_work(members: int) -> Work:
    """A new paid order each time, as the README's example: by member number,
    lines after discounts, shipping on top."""
    zone = ZoneInfo(settings.PROGRAM_TIME_ZONE)

    def work(rng: random.Random, unique: str) -> Request:
        lines = []
        for sku, category, price in rng.sample(CATALOGUE, rng.randint(1, 3)):
            quantity = rng.randint(1, 3)
            lines.append((sku, category, quantity, price * quantity))
        shipping = rng.choice(SHIPPING)
        placed = dt.datetime.now(zone) - dt.timedelta(seconds=rng.randint(60, 3600))
        body = {
            "order_id": f"H-{unique}",
            "member": f"M{rng.randint(1, members):08d}",
            "placed_at": placed.isoformat(timespec="seconds"),
            "currency": settings.PROGRAM_CURRENCY,
            "total": _money(sum(line[3] for line in lines) + shipping),
            "shipping": _money(shipping),
            "lines": [
                {"sku": sku, "category": category, "quantity": quantity, "amount": _money(amount)}
                for sku, category, quantity, amount in lines
            ],
        }
        return Request("POST", ORDERS, json.dumps(body).encode(), len(lines))

    return work


def ceiling_work(rng: random.Random, unique: str) -> Request:
    return Request("GET", CEILING)


# -- the client --


class Connection:
    """One keep-alive connection to the server, counting into `tally`."""

    def __init__(self, port: int, key: str, tally: Tally) -> None:
        self.http = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT)
        self.headers = {
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/json",
            "X-Forwarded-Proto": "https",
        }
        self.tally = tally

    def send(self, request: Request) -> tuple[int, bytes] | None:
        """The answer's status and body, or None when none came."""
        if self.http.sock is None:
            self.tally.opened += 1
        try:
            self.http.request(request.method, request.path, request.body, self.headers)
            response = self.http.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException) as error:
            self.http.close()
            self.tally.failures[type(error).__name__] += 1
            return None

    def worker(self) -> int:
        """The pid of the worker this connection reached."""
        answer = self.send(Request("GET", CEILING))
        if answer is None or answer[0] != 200:
            raise RuntimeError(f"{CEILING} did not answer 200: {answer!r}")
        return int(json.loads(answer[1])["worker"])

    def count(self, request: Request) -> bool:
        """Send `request` and count its answer; True for a 2xx."""
        answer = self.send(request)
        if answer is None:
            return False
        status, body = answer
        tally = self.tally
        tally.statuses[status] += 1
        if status == 201 and request.path == ORDERS:
            tally.created += 1
            tally.points += json.loads(body)["points"]
            tally.lines += request.lines
        if not 200 <= status < 300 and len(tally.samples) < SAMPLES:
            tally.samples.append(f"{request.method} {request.path} -> {status} {body[:300]!r}")
        return 200 <= status < 300

    def close(self) -> None:
        self.http.close()


def phase(
    name: str,
    *,
    port: int,
    key: str,
    connections: int,
    workers: int,
    duration: float,
    work: Work,
    rate: float | None = None,
) -> Phase:
    """`connections` threads, each with its own connection, sending `work` for
    `duration` seconds once all are connected and warmed up: as fast as the
    answers come, or `rate` requests per second in all, evenly spaced.

    A worker keeps a keep-alive connection until it closes, and which worker
    accepts a new one is chance: a connection that reaches a worker already
    holding its share is opened again, so that each worker gets its share."""
    interval = connections / rate if rate else None
    slug = name.replace(" ", "-")
    share = math.ceil(connections / workers)
    spread: Counter[int] = Counter()
    clock: dict[str, float] = {}

    def start() -> None:
        clock["start"] = time.perf_counter()
        clock["cpu"] = time.process_time()

    barrier = threading.Barrier(connections, action=start)
    tallies: list[Tally] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def place(connection: Connection) -> None:
        for _ in range(PLACEMENT_TRIES):
            worker = connection.worker()
            with lock:
                if spread[worker] < share:
                    spread[worker] += 1
                    return
            connection.close()
        raise RuntimeError(f"{connections} connections would not spread over {workers} workers")

    def body(index: int) -> None:
        rng = random.Random(f"{name}-{index}")
        ids = (f"{slug}-{index}-{n}" for n in itertools.count())
        tally = Tally()
        connection = Connection(port, key, tally)
        try:
            place(connection)
            for _ in range(WARM_UP):
                connection.count(work(rng, next(ids)))
            tally.opened = 0
            barrier.wait()
            started = clock["start"]
            deadline = started + duration
            due = started + (interval or 0) * index / connections
            while (now := time.perf_counter()) < deadline:
                request = work(rng, next(ids))
                if interval:
                    if due >= deadline:
                        break
                    if due > now:
                        time.sleep(due - now)
                    sent, due = due, due + interval
                else:
                    sent = time.perf_counter()
                ok = connection.count(request)
                tally.latencies.append(time.perf_counter() - sent)
                tally.ok += ok
            tally.seconds = time.perf_counter() - started
        except BaseException as error:
            barrier.abort()
            with lock:
                errors.append(error)
        finally:
            connection.close()
            with lock:
                tallies.append(tally)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cpu = time.process_time() - clock.get("cpu", time.process_time())
    real = [e for e in errors if not isinstance(e, threading.BrokenBarrierError)]
    if real:
        raise RuntimeError(f"{name}: {len(real)} connection(s) failed") from real[0]
    total = Tally()
    for tally in tallies:
        total.add(tally)
    return Phase(name, connections, total, spread, cpu, rate)


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
        "LOG_LEVEL": "WARNING",
    }
    command = [
        sys.executable, "-m", "gunicorn", "bench.server:application",
        "--bind", f"{HOST}:{port}",
        "--workers", str(workers),
        "--worker-class", "gthread",
        "--threads", str(threads),
        "--keep-alive", str(KEEP_ALIVE),
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
        f"target (order intake >= {TARGET_SHARE:.0%} of the ceiling): {result.ratio:.2f} -> "
        + ("met" if share_met else "MISSED"),
        f"target (p99 < {TARGET_P99_MS:g} ms at {TARGET_SHARE:.0%} of the ceiling, "
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
    unsuccessful = sum(p.tally.unsuccessful for p in (result.ceiling, *phases))
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
    for p in (result.ceiling, *phases):
        report += [f"  {p.name}: {sample}" for sample in p.tally.samples]
    return report


def run(
    *,
    members: int,
    lots_per_member: int,
    connections: int,
    workers: int,
    threads: int,
    duration: float,
) -> Result:
    say("== order intake over HTTP: POST /api/v1/orders vs the stack's ceiling ==")
    generate(members=members, lots_per_member=lots_per_member, due_fraction=0.0)
    key = _api_key()
    with serving(workers=workers, threads=threads) as port:
        say(
            f"  gunicorn on {HOST}:{port}: {workers} workers x {threads} threads (gthread), "
            f"DEBUG off; {connections} keep-alive connections, {duration:g} s per phase"
        )
        measure = functools.partial(
            phase,
            port=port,
            key=key,
            connections=connections,
            workers=workers,
            duration=duration,
        )
        ceiling = measure("ceiling", work=ceiling_work)
        say(ceiling.describe())
        orders = measure("orders", work=order_work(members))
        say(orders.describe())
        paced = measure("orders paced", work=order_work(members), rate=TARGET_SHARE * ceiling.rate)
        say(paced.describe())
    result = Result(ceiling, orders, paced, _ledger())
    say()
    say(table([ceiling, orders, paced]))
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
    )
