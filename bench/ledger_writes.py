"""Ledger writes: earn and redeem through the services (`points_earn`,
`points_redeem`) beside the same transaction in plain SQL, from 1, 4 and 16
threads, on random members and on one hot member, in committed transactions per
second over a fixed duration.

The plain-SQL transaction is the least the ledger needs, with psycopg directly
(one connection per thread, its default server-side binding and statement
preparation):

    earn:   BEGIN; SELECT ... FROM points_account WHERE member_id = %s FOR UPDATE;
            INSERT INTO points_entry ...; INSERT INTO points_lot ...;
            UPDATE points_account SET available = ...; COMMIT
    redeem: BEGIN; SELECT ... FOR UPDATE; INSERT INTO points_entry ...;
            one statement taking the points from the lots that expire first and
            recording the lot uses; UPDATE points_account ...; COMMIT

The redemption takes from the lots as the service does, so that both leave the
same ledger behind (the balance still equals the lots' remaining) and the
figures compare the same work. Neither baseline checks idempotency keys, the
member's status or verification, or debt: that is part of what the services cost.

Redemption runs first, on the ledger as generated (random members: a few lots
each; the hot member: a heavy member's year of lots), so its figures do not
depend on how many lots the earning runs happened to add.
"""

import argparse
import datetime as dt
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection

from members.models import Member
from points.errors import InsufficientPoints
from points.expiry import lot_expires_at
from points.models import Entry
from points.services import Source, points_earn, points_redeem

from .database import psycopg_connect, say
from .generate import FINGERPRINT, generate

HOT_MEMBER = 1
HOT_LOTS = 1_000  # about three orders a day for a year
EARN = (10, 500)  # points of one earning, uniform
REDEEM = (10, 50)  # points of one redemption, uniform
WARM_UP = 3  # transactions per thread before the clock starts
TARGET_THREADS = 4
TARGET_RATIO = 0.5


class Refused(Exception):
    """The plain-SQL redemption found too few points (rolled back)."""


Work = Callable[[int, int, str], None]  # (member id, points, key)


@dataclass
class Measured:
    transactions: int = 0
    refused: int = 0
    errors: list[BaseException] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.transactions / self.seconds if self.seconds else 0.0


@dataclass
class Row:
    operation: str
    threads: int
    target: str
    services: Measured
    plain: Measured

    @property
    def ratio(self) -> float:
        return self.services.rate / self.plain.rate if self.plain.rate else 0.0


# -- the two implementations: a worker factory per (operation, implementation) --


def _services_earn() -> tuple[Work, Callable[[], None]]:
    def work(member_id: int, points: int, key: str) -> None:
        points_earn(
            member=Member(pk=member_id),
            points=points,
            source=Source(Entry.Source.ORDER, key),
            key=key,
        )

    return work, connection.close


def _services_redeem() -> tuple[Work, Callable[[], None]]:
    def work(member_id: int, points: int, key: str) -> None:
        points_redeem(
            member=Member(pk=member_id),
            points=points,
            source=Source(Entry.Source.REWARD, key),
            key=key,
        )

    return work, connection.close


_LOCK = "SELECT available, pending FROM points_account WHERE member_id = %s FOR UPDATE"
_ENTRY = """
    INSERT INTO points_entry (member_id, kind, amount, pending_change, balance_after,
        pending_after, source_type, source_ref, idempotency_key, fingerprint, reason,
        effective_at, created_at)
    VALUES (%s, %s, %s, 0, %s, %s, %s, %s, %s, %s, '', %s, %s)
    RETURNING id
"""
_LOT = """
    INSERT INTO points_lot (member_id, entry_id, original, remaining, pending,
        available_from, expires_at)
    VALUES (%s, %s, %s, %s, false, %s, %s)
"""
_EARN_BALANCE = """
    UPDATE points_account SET available = available + %s,
        lifetime_earned = lifetime_earned + %s, updated_at = %s
    WHERE member_id = %s
"""
# The lots that expire first, at most `points` of them (each has at least one
# point left), each giving what is still needed after the ones before it.
_TAKE = """
    WITH spendable AS (
        SELECT id, remaining, expires_at FROM points_lot
        WHERE member_id = %(member)s AND NOT pending AND remaining > 0
        ORDER BY expires_at, id LIMIT %(points)s
    ), take AS (
        SELECT id, LEAST(remaining, %(points)s - COALESCE(SUM(remaining) OVER (
            ORDER BY expires_at, id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0))
            AS points
        FROM spendable
    ), taken AS (
        UPDATE points_lot l SET remaining = l.remaining - t.points FROM take t
        WHERE l.id = t.id AND t.points > 0
        RETURNING l.id, t.points
    )
    INSERT INTO points_lotuse (entry_id, lot_id, points)
    SELECT %(entry)s, id, points FROM taken
"""
_REDEEM_BALANCE = """
    UPDATE points_account SET available = available - %s, updated_at = %s
    WHERE member_id = %s
"""


def _plain_earn() -> tuple[Work, Callable[[], None]]:
    conn = psycopg_connect()
    cursor = conn.cursor()

    def work(member_id: int, points: int, key: str) -> None:
        now = dt.datetime.now(dt.UTC)
        cursor.execute(_LOCK, [member_id])
        available, pending = cursor.fetchone()
        cursor.execute(
            _ENTRY,
            [member_id, "earn", points, available + points, pending, "order", key, key,
             FINGERPRINT, now, now],
        )  # fmt: skip
        entry_id = cursor.fetchone()[0]
        cursor.execute(_LOT, [member_id, entry_id, points, points, now, lot_expires_at(now)])
        cursor.execute(_EARN_BALANCE, [points, points, now, member_id])
        conn.commit()

    return work, conn.close


def _plain_redeem() -> tuple[Work, Callable[[], None]]:
    conn = psycopg_connect()
    cursor = conn.cursor()

    def work(member_id: int, points: int, key: str) -> None:
        now = dt.datetime.now(dt.UTC)
        cursor.execute(_LOCK, [member_id])
        available, pending = cursor.fetchone()
        if available < points:
            conn.rollback()
            raise Refused
        cursor.execute(
            _ENTRY,
            [member_id, "redeem", -points, available - points, pending, "reward", key, key,
             FINGERPRINT, now, now],
        )  # fmt: skip
        entry_id = cursor.fetchone()[0]
        cursor.execute(_TAKE, {"member": member_id, "points": points, "entry": entry_id})
        cursor.execute(_REDEEM_BALANCE, [points, now, member_id])
        conn.commit()

    return work, conn.close


FACTORIES = {
    ("earn", "services"): _services_earn,
    ("earn", "plain"): _plain_earn,
    ("redeem", "services"): _services_redeem,
    ("redeem", "plain"): _plain_redeem,
}


# -- the harness --


def measure(
    *,
    operation: str,
    implementation: str,
    threads: int,
    target: str,
    members: int,
    duration: float,
) -> Measured:
    """Run `threads` threads, each with its own connection, for `duration`
    seconds after they are all connected and warmed up; count what committed."""
    factory = FACTORIES[operation, implementation]
    low, high = EARN if operation == "earn" else REDEEM
    label = f"{operation}-{implementation}-{threads}-{target}-{time.time_ns()}"
    clock: dict[str, float] = {}

    def start() -> None:
        clock["start"] = time.perf_counter()
        clock["deadline"] = clock["start"] + duration

    barrier = threading.Barrier(threads, action=start)
    results: list[Measured] = []
    lock = threading.Lock()

    def body(index: int) -> None:
        rng = random.Random(index)
        mine = Measured()
        work, close = factory()
        try:
            n = 0

            def once() -> None:
                nonlocal n
                n += 1
                member = HOT_MEMBER if target == "hot" else rng.randint(2, members)
                work(member, rng.randint(low, high), f"{label}-{index}-{n}")

            for _ in range(WARM_UP):
                once()
            barrier.wait()
            deadline = clock["deadline"]
            while time.perf_counter() < deadline:
                try:
                    once()
                    mine.transactions += 1
                except (InsufficientPoints, Refused):
                    mine.refused += 1
            mine.seconds = time.perf_counter() - clock["start"]
        except BaseException as error:
            mine.errors.append(error)
            barrier.abort()
        finally:
            close()
            with lock:
                results.append(mine)

    pool = [threading.Thread(target=body, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    total = Measured(
        transactions=sum(r.transactions for r in results),
        refused=sum(r.refused for r in results),
        errors=[e for r in results for e in r.errors],
        seconds=max(r.seconds for r in results),
    )
    real = [e for e in total.errors if not isinstance(e, threading.BrokenBarrierError)]
    if real:
        raise RuntimeError(f"{label}: {len(real)} thread(s) failed") from real[0]
    return total


def table(rows: list[Row]) -> str:
    lines = [
        f"{'operation':<10} {'threads':>7} {'target':<7} {'services tx/s':>14} "
        f"{'plain SQL tx/s':>15} {'ratio':>6}",
    ]
    for row in rows:
        lines.append(
            f"{row.operation:<10} {row.threads:>7} {row.target:<7} "
            f"{row.services.rate:>14.1f} {row.plain.rate:>15.1f} {row.ratio:>6.2f}"
        )
    return "\n".join(lines)


def verdict(rows: list[Row]) -> list[str]:
    lines = []
    for row in rows:
        if row.threads != TARGET_THREADS:
            continue
        met = "met" if row.ratio >= TARGET_RATIO else "MISSED"
        lines.append(
            f"target (services >= {TARGET_RATIO:.0%} of plain SQL at {TARGET_THREADS} threads), "
            f"{row.operation} {row.target}: {row.ratio:.2f} -> {met}"
        )
    return lines


def _ledger_totals() -> tuple[int, int]:
    with psycopg_connect() as conn:
        available = conn.execute("SELECT sum(available) FROM points_account").fetchone()[0]
        remaining = conn.execute(
            "SELECT sum(remaining) FROM points_lot WHERE NOT pending"
        ).fetchone()[0]
    return available, remaining


def run(
    *,
    members: int,
    lots_per_member: int,
    threads: list[int],
    duration: float,
    operations: list[str],
    targets: list[str],
) -> list[Row]:
    say("== ledger writes: services vs plain SQL ==")
    generate(members=members, lots_per_member=lots_per_member, due_fraction=0.0, hot_lots=HOT_LOTS)
    say(
        f"  {duration:g} s per measurement; hot member: id {HOT_MEMBER} with {HOT_LOTS:,} lots; "
        f"earn {EARN[0]}-{EARN[1]} points, redeem {REDEEM[0]}-{REDEEM[1]}"
    )
    rows = []
    order = [op for op in ("redeem", "earn") if op in operations]
    for operation in order:
        for target in targets:
            for count in threads:
                measured = {}
                for implementation in ("services", "plain"):
                    measured[implementation] = measure(
                        operation=operation,
                        implementation=implementation,
                        threads=count,
                        target=target,
                        members=members,
                        duration=duration,
                    )
                row = Row(operation, count, target, measured["services"], measured["plain"])
                refused = row.services.refused + row.plain.refused
                say(
                    f"  {operation} x{count} {target}: services {row.services.rate:.1f}, "
                    f"plain {row.plain.rate:.1f} tx/s"
                    + (f" ({refused} refused for want of points)" if refused else "")
                )
                rows.append(row)
    available, remaining = _ledger_totals()
    say(
        "  ledger after the runs: "
        + (
            "balances equal the lots' remaining"
            if available == remaining
            else f"OUT OF BALANCE: available {available}, lots {remaining}"
        )
    )
    say()
    say(table(rows))
    for line in verdict(rows):
        say(line)
    say()
    return rows


def main(args: argparse.Namespace) -> None:
    run(
        members=args.members,
        lots_per_member=args.lots_per_member,
        threads=args.threads,
        duration=args.duration,
        operations=args.operations,
        targets=args.targets,
    )
