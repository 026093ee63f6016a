"""`python -m bench coupons`: coupon redeems per second through the shop API
beside the least the database must do for one (a plain-SQL conditional update of
the coupon's uses counter), and a batch of a million codes generated as the
admin's task does it: time and peak memory.

Redeems all go to one coupon with a million uses, the hot row every concurrent
redeem of a promotion code queues on. The API phase runs gunicorn (as
`orders_http` does) with `--clients` keep-alive connections, each request a new
order and idempotency key; the baseline runs the same number of threads, each
with its own connection, committing one `UPDATE ... SET uses_count = uses_count
+ 1 WHERE ... uses_count < uses_allowed` at a time. Target: the API at least 0.3
of the plain rate at 4 clients. After the phases, the coupon's counter must equal
the uses recorded plus the baseline's updates, and the answers' count.
"""

import argparse
import functools
import json
import random
import threading
import time
from dataclasses import dataclass

from rewards.models import Coupon, CouponUse
from rewards.services.batches import (
    coupon_batch_codes,
    coupon_batch_create,
    coupon_batch_generate,
)
from rewards.services.coupons import CouponSpec, coupon_create

from .database import TimedRun, memory_mb, psycopg_connect, run_child, say
from .http_client import Request, Work, phase
from .orders_http import _api_key, serving

TARGET_SHARE = 0.30
USES = 10**9
REDEEM_PATH = "/api/v1/coupons/{code}/redeem"


@dataclass(frozen=True)
class Rate:
    name: str
    clients: int
    count: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0


def _coupon() -> str:
    coupon = coupon_create(
        spec=CouponSpec(kind="amount", amount_minor=500, uses_allowed=USES),
        source=Coupon.Source.STAFF,
    )
    return coupon.code


def _plain(code: str, *, clients: int, duration: float) -> Rate:
    """`clients` threads committing the conditional UPDATE as fast as they can."""
    barrier = threading.Barrier(clients)
    counts = [0] * clients
    elapsed = [0.0] * clients

    def work(index: int) -> None:
        with psycopg_connect(autocommit=True) as conn:
            coupon_id = conn.execute(
                "SELECT id FROM rewards_coupon WHERE code = %s", [code]
            ).fetchone()[0]
            barrier.wait()
            started = time.perf_counter()
            while time.perf_counter() - started < duration:
                updated = conn.execute(
                    "UPDATE rewards_coupon SET uses_count = uses_count + 1 WHERE id = %s "
                    "AND voided_at IS NULL AND (expires_at IS NULL OR expires_at > now()) "
                    "AND (uses_allowed IS NULL OR uses_count < uses_allowed)",
                    [coupon_id],
                ).rowcount
                counts[index] += updated
            elapsed[index] = time.perf_counter() - started

    threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Rate("plain SQL", clients, sum(counts), max(elapsed))


def _redeem_work(code: str) -> Work:
    path = REDEEM_PATH.format(code=code)

    def work(rng: random.Random, unique: str) -> Request:
        body = {"order_id": unique, "total": "100.00", "idempotency_key": unique}
        return Request("POST", path, json.dumps(body).encode())

    return work


def batch_child(args: argparse.Namespace) -> None:
    """`python -m bench _coupon_batch`: generate one batch, print its figures."""
    batch = coupon_batch_create(
        name="bench", count=args.count, spec=CouponSpec(kind="percent", percent=10)
    )
    before = memory_mb("VmRSS")
    started = time.perf_counter()
    coupon_batch_generate(batch_id=batch.pk)
    generated = time.perf_counter() - started
    started = time.perf_counter()
    read = sum(1 for _code in coupon_batch_codes(batch=batch))
    streamed = time.perf_counter() - started
    figures = {
        "seconds": generated,
        "rss_before_mb": before,
        "rss_peak_mb": memory_mb("VmHWM"),
        "csv_seconds": streamed,
        "codes": read,
    }
    print(json.dumps(figures))


def _batch(count: int) -> None:
    figures = run_child("_coupon_batch", "--count", str(count))
    timed = TimedRun(figures["seconds"], figures["rss_before_mb"], figures["rss_peak_mb"])
    say(
        f"  batch of {figures['codes']:,} codes: generated in {timed.seconds:.1f} s "
        f"({figures['codes'] / timed.seconds:,.0f}/s), read back as the CSV streams them in "
        f"{figures['csv_seconds']:.1f} s; process {timed.rss_before_mb:.0f} MB before, "
        f"peak {timed.rss_peak_mb:.0f} MB (+{timed.rss_growth_mb:.0f} MB)"
    )


def run(*, clients: list[int], workers: int, threads: int, duration: float, batch: int) -> None:
    say("== coupon redeems: POST /api/v1/coupons/{code}/redeem vs one conditional UPDATE ==")
    code = _coupon()
    key = _api_key()
    rows = []
    with serving(workers=workers, threads=threads) as port:
        say(f"  gunicorn: {workers} workers x {threads} threads; {duration:g} s per phase")
        for count in clients:
            measure = functools.partial(
                phase, port=port, key=key, workers=workers, duration=duration
            )
            api = measure(f"api {count}", connections=count, work=_redeem_work(code))
            say(api.describe())
            plain = _plain(code, clients=count, duration=duration)
            say(f"  plain SQL {count}: {plain.rate:.1f}/s")
            rows.append((count, api, plain))
            unexpected = api.tally.unsuccessful
            if unexpected:
                say(f"  {unexpected} answers were not 2xx: {api.tally.samples}")
    say()
    say(f"  {'clients':>7}  {'API redeems/s':>14}  {'plain SQL/s':>12}  {'ratio':>6}")
    for count, api, plain in rows:
        ratio = api.rate / plain.rate if plain.rate else 0.0
        verdict = "ok" if ratio >= TARGET_SHARE or count != 4 else "BELOW TARGET"
        mark = f" (target >= {TARGET_SHARE}: {verdict})" if count == 4 else ""
        say(f"  {count:>7}  {api.rate:>14.1f}  {plain.rate:>12.1f}  {ratio:>6.2f}{mark}")
    coupon = Coupon.objects.get(code=code)
    uses = CouponUse.objects.filter(coupon=coupon).count()
    answered = sum(api.tally.statuses[201] for _count, api, _plain in rows)
    baseline = sum(plain.count for _count, _api, plain in rows)
    consistent = coupon.uses_count == uses + baseline
    say(
        f"  check: uses counter {coupon.uses_count:,} = {uses:,} uses recorded + "
        f"{baseline:,} baseline updates: {'ok' if consistent else 'MISMATCH'}; "
        f"{answered:,} answered 201"
    )
    say()
    _batch(batch)
    say()


def main(args: argparse.Namespace) -> None:
    run(
        clients=args.clients,
        workers=args.workers,
        threads=args.threads,
        duration=args.duration,
        batch=args.batch,
    )
