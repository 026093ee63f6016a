"""The load client of `python -m bench orders_http`: keep-alive HTTP/1.1
connections (http.client), one per thread, sending the shop's requests to the
server gunicorn runs, as fast as the answers come or at a given rate, counting
what comes back."""

import datetime as dt
import http.client
import itertools
import json
import math
import os
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings

HOST = "127.0.0.1"
CEILING = "/bench/ceiling"  # bench/server.py: through the portal's middleware...
API_CEILING = "/api/bench/ceiling"  # ...and through the API's
ORDERS = "/api/v1/orders"
KEPT_UP = 0.95  # a paced phase that answers less than this share of its rate fell behind
WARM_UP = 5  # requests per connection before the clock starts
PLACEMENT_TRIES = 200  # connections opened, at most, to give one its worker
TIMEOUT = 30.0  # seconds to wait for an answer
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


@dataclass(frozen=True)
class Cpu:
    """Processor time, in clock ticks, read from Linux's /proc: the machine's
    (busy and in all, every core), each server worker's and all of PostgreSQL's.
    The difference of two readings says where a phase's time went and whether
    the machine had any to spare."""

    busy: int
    total: int
    server: dict[int, int]  # pid: ticks
    # Every postgres process's ticks and those of its children that ended (the
    # postmaster's): a backend that ends between two readings moves its ticks
    # from its own line to the postmaster's, so the difference still counts them.
    database: int

    @classmethod
    def read(cls, workers: set[int]) -> "Cpu | None":
        if not os.path.exists("/proc/stat"):
            return None
        with open("/proc/stat") as stat:
            ticks = [int(n) for n in stat.readline().split()[1:]]
        idle = ticks[3] + ticks[4]  # idle, iowait
        server, database = {}, 0
        for pid in map(int, filter(str.isdigit, os.listdir("/proc"))):
            try:
                with open(f"/proc/{pid}/stat") as stat:
                    line = stat.read()
            except OSError:  # the process ended meanwhile
                continue
            name = line[line.index("(") + 1 : line.rindex(")")]
            utime, stime, cutime, cstime = map(int, line[line.rindex(")") + 2 :].split()[11:15])
            if pid in workers:
                server[pid] = utime + stime
            elif name == "postgres":
                database += utime + stime + cutime + cstime
        return cls(sum(ticks) - idle, sum(ticks), server, database)

    def since(self, start: "Cpu") -> str:
        """What the machine did between `start` and this reading, in cores."""
        seconds = (self.total - start.total) / (os.cpu_count() or 1)
        if seconds <= 0:
            return ""
        server = sum(ticks - start.server.get(pid, 0) for pid, ticks in self.server.items())
        return (
            f"; machine {(self.busy - start.busy) / seconds:.2f} of {os.cpu_count()} cores "
            f"busy (server {server / seconds:.2f}, "
            f"PostgreSQL {(self.database - start.database) / seconds:.2f})"
        )


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
    machine: str = ""  # Cpu.since over the window

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
            + self.machine
        )


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


def api_ceiling_work(rng: random.Random, unique: str) -> Request:
    return Request("GET", API_CEILING)


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


def rounds_combined(name: str, rounds: list[Phase]) -> Phase:
    """The phases of the same work, run one after the other, as one: their
    requests and seconds added up."""
    total, workers = Tally(), Counter[int]()
    for round_ in rounds:
        total.add(round_.tally)
        workers |= round_.workers
    total.seconds = sum(round_.tally.seconds for round_ in rounds)
    return Phase(
        name,
        rounds[0].connections,
        total,
        workers,
        sum(round_.client_cpu for round_ in rounds),
    )


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
    machine: list[Cpu | None] = []

    def start() -> None:
        clock["start"] = time.perf_counter()
        clock["cpu"] = time.process_time()
        machine.append(Cpu.read(set(spread)))

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
    end = Cpu.read(set(spread))
    usage = end.since(machine[0]) if end is not None and machine and machine[0] else ""
    real = [e for e in errors if not isinstance(e, threading.BrokenBarrierError)]
    if real:
        raise RuntimeError(f"{name}: {len(real)} connection(s) failed") from real[0]
    total = Tally()
    for tally in tallies:
        total.add(tally)
    return Phase(name, connections, total, spread, cpu, rate, usage)
