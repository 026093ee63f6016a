"""Each nightly job under stress ends with the ledger exactly as one clean run
leaves it (PostgreSQL: concurrent connections and real row locks).

A test builds a population of members and runs the night once, cleanly; then
builds a second, identical population and runs the same night under stress:
two runs at once, two chunk transactions over overlapping ranges at once (what a
redelivered chunk and a second run would do if nothing kept them apart), or a
crash in the middle chunk and a re-run with another chunk size. The two
populations must then be indistinguishable, member by member: balances, entries,
lots, warnings, tiers, history, messages, plans and e-mails."""

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.db import transaction

from batch import registry
from batch.errors import JobRunning
from batch.models import JobRun
from batch.runner import job_run
from batch.services import program_midnight
from notifications.models import Message
from points.models import Account, Entry, ExpiryWarning, Lot, LotUse
from points.services import Source, points_earn, points_redeem, points_reverse
from tests.batch.helpers import Boom, crash_in_chunk_of
from tests.concurrency import race
from tests.factories import MemberFactory, ledger_is_clean, order_place
from tiers.models import MemberTier, PaidPlan, Subscription, Tier, TierChange

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SIZE = 6  # members per population: three chunks of two, two of three
NOON = dt.datetime(2026, 3, 10, 4, 0, tzinfo=dt.UTC)  # 12:00 in Shanghai
DAY = dt.date(2026, 3, 10)
BOUGHT = dt.datetime(2025, 1, 15, 4, 0, tzinfo=dt.UTC)
OUT = dt.date(2026, 1, 16)  # the first night without BOUGHT's orders in the window
GRACE_END = OUT + dt.timedelta(days=30)
PLAN_SKU = "PLUS-1Y"


def _at(moment, work):
    with time_machine.travel(moment, tick=False):
        return work()


# -- the populations: (job, night, build(members), nights run before, for both) --


def _build_release(members):
    for n, member in enumerate(members):

        def earn(member=member, n=n):
            return points_earn(
                member=member,
                points=100 + n,
                source=Source("order", f"o{n}"),
                key=f"order:o{n}",
                available_from=NOON + dt.timedelta(days=14),
            )

        _at(NOON, earn)
    debtor = members[1]  # in debt: released through the per-member service

    def debt():
        points_earn(member=debtor, points=50, source=Source("order", "a"), key="a")
        points_redeem(member=debtor, points=50, source=Source("reward", "x"), key="x")
        points_reverse(
            member=debtor,
            of_source=Source("order", "a"),
            points=50,
            source=Source("refund", "r"),
            key="r",
        )

    _at(NOON, debt)


def _build_expiry(members):
    for n, member in enumerate(members):
        _at(
            NOON + dt.timedelta(days=n % 2),  # every other member's lot expires a day later
            lambda member=member, n=n: points_earn(
                member=member, points=10 * (n + 1), source=Source("order", f"{n}"), key=f"{n}"
            ),
        )
    _at(
        NOON + dt.timedelta(days=100),
        lambda: points_redeem(
            member=members[0], points=5, source=Source("reward", "r"), key="spent"
        ),
    )


def _build_tiers(members):
    tiers = {tier.code: tier for tier in Tier.objects.all()}
    codes = ["gold", "gold", "silver", "diamond", "member", "silver"]
    for member, code in zip(members, codes, strict=True):
        if code != "member":
            _at(BOUGHT, lambda m=member, c=code: order_place(m, tiers[c].threshold_minor))
    # Back at silver during grace: grace clears. Near gold: a nudge.
    top_up = dt.datetime(2026, 2, 1, 4, 0, tzinfo=dt.UTC)
    _at(top_up, lambda: order_place(members[2], tiers["silver"].threshold_minor))
    _at(top_up, lambda: order_place(members[5], tiers["gold"].threshold_minor * 85 // 100))


def _build_plans(members):
    plan = PaidPlan.objects.get_or_create(
        code="plus",
        defaults={"name": "Plus", "sku": PLAN_SKU, "price_minor": 100, "duration_days": 365},
    )[0]
    for n, member in enumerate(members):
        bought = BOUGHT + dt.timedelta(days=n)  # ended, or ending within the reminder days
        _at(
            bought,
            lambda m=member: order_place(
                m, plan.price_minor, lines=[(PLAN_SKU, 1, plan.price_minor)]
            ),
        )


JOBS = {
    "release_pending": (DAY + dt.timedelta(days=15), _build_release, []),
    "expire_points": (DAY + dt.timedelta(days=366), _build_expiry, []),
    "warn_expiring": (DAY + dt.timedelta(days=350), _build_expiry, []),
    "recalc_tiers": (GRACE_END, _build_tiers, [OUT]),
    "paid_plans": (dt.date(2026, 1, 19), _build_plans, []),
}


def _night(name, as_of, work):
    """`work()` at 01:00 of the programme day `as_of`."""
    return _at(program_midnight(as_of) + dt.timedelta(hours=1), work)


def _population(name):
    _as_of, build, before = JOBS[name]
    members = [MemberFactory() for _ in range(SIZE)]
    build(members)
    for night in before:
        _night(name, night, lambda night=night: job_run(name=name, as_of=night, chunk_size=2))
    return members


# -- what a population is made of, member by member, with no ids --


def _snapshot(members):
    rows = []
    for member in members:
        account = Account.objects.filter(member=member).values(
            "available", "pending", "lifetime_earned"
        )
        state = MemberTier.objects.filter(member=member).values(
            "tier__code", "grace_until", "since", "spend_minor", "orders_count", "nudged_on"
        )
        rows.append(
            {
                "account": list(account),
                "entries": list(
                    Entry.objects.filter(member=member)
                    .order_by("id")
                    .values_list(
                        "kind",
                        "amount",
                        "pending_change",
                        "balance_after",
                        "pending_after",
                    )
                ),
                "lots": list(
                    Lot.objects.filter(member=member)
                    .order_by("id")
                    .values_list(
                        "original", "remaining", "pending", "expires_at", "released_by__kind"
                    )
                ),
                "lot_uses": sorted(
                    LotUse.objects.filter(lot__member=member).values_list("entry__kind", "points")
                ),
                "warnings": list(
                    ExpiryWarning.objects.filter(member=member).values_list("expires_on", "points")
                ),
                "tier": list(state),
                "history": list(
                    TierChange.objects.filter(member=member)
                    .order_by("id")
                    .values_list("reason", "from_tier__code", "to_tier__code", "as_of")
                ),
                "messages": sorted(
                    Message.objects.filter(member=member).values_list(
                        "channel", "kind", "template", "key", "state"
                    )
                ),
                "plans": list(
                    Subscription.objects.filter(member=member)
                    .order_by("id")
                    .values_list("status", "ends_at", "reminded_for")
                ),
                "mail": sorted(m.subject for m in mail.outbox if member.user.email in m.to),
            }
        )
    return rows


def _clean(name):
    """The first population, and what one clean run of the night leaves of it."""
    as_of = JOBS[name][0]
    members = _population(name)
    run = _night(name, as_of, lambda: job_run(name=name, as_of=as_of, chunk_size=2))
    assert run.status == "succeeded"
    assert run.counts, "the clean run found nothing to do: the test would prove nothing"
    return members


def _expect_same(name, clean, stressed):
    expected, found = _snapshot(clean), _snapshot(stressed)
    for n, (want, got) in enumerate(zip(expected, found, strict=True)):
        assert got == want, f"member {n}: " + ", ".join(
            f"{key}: {got[key]} instead of {want[key]}" for key in want if got[key] != want[key]
        )
    assert ledger_is_clean()
    assert not JobRun.objects.filter(status="running").exists()


@pytest.mark.parametrize("name", JOBS)
def test_two_runs_of_the_night_at_once(name):
    clean = _clean(name)
    stressed = _population(name)
    as_of = JOBS[name][0]

    results = _night(
        name,
        as_of,
        lambda: race(2, lambda i: job_run(name=name, as_of=as_of, chunk_size=2 + i), errors=True),
    )

    assert all(isinstance(r, JobRunning) or r.status == "succeeded" for r in results), results
    _expect_same(name, clean, stressed)


@pytest.mark.parametrize("name", JOBS)
def test_two_chunks_over_overlapping_ranges_at_once(name):
    """What a redelivered chunk and a second run's chunk would do if nothing kept
    them apart: each job's statements alone must keep the night exactly-once."""
    clean = _clean(name)
    stressed = _population(name)
    as_of = JOBS[name][0]
    job = registry.get(name)
    first, last = stressed[0].pk, stressed[-1].pk
    ranges = [(first, last), (first + 2, last + 5)]

    def chunk(i):
        with transaction.atomic():
            return job.run_chunk(as_of, *ranges[i])

    _night(name, as_of, lambda: race(2, chunk))

    _expect_same(name, clean, stressed)


@pytest.mark.parametrize("name", JOBS)
def test_a_crash_in_the_middle_chunk_then_a_rerun_with_another_chunk_size(name, monkeypatch):
    clean = _clean(name)
    stressed = _population(name)
    as_of = JOBS[name][0]
    crash_in_chunk_of(monkeypatch, name, stressed[SIZE // 2].pk)

    with pytest.raises(Boom):
        _night(name, as_of, lambda: job_run(name=name, as_of=as_of, chunk_size=2))
    monkeypatch.undo()
    rerun = _night(name, as_of, lambda: job_run(name=name, as_of=as_of, chunk_size=3))

    assert rerun.status == "succeeded"
    _expect_same(name, clean, stressed)
