import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from batch.models import JobRun
from batch.runner import job_run
from batch.services import program_midnight
from points.models import Entry, ExpiryWarning, Lot
from points.selectors import balance_get
from points.services import Source, points_earn, points_redeem, points_reverse
from tests.batch.helpers import Boom, crash_in_chunk_of
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 3, 10)
NOON = dt.datetime(2026, 3, 10, 4, 0, tzinfo=dt.UTC)  # 12:00 in Shanghai


def _run(name, as_of, chunk_size=2):
    return job_run(name=name, as_of=as_of, chunk_size=chunk_size)


@pytest.fixture
def members():
    return [MemberFactory() for _ in range(5)]


def _earn_pending(member, points, ref, placed):
    with time_machine.travel(placed):
        return points_earn(
            member=member,
            points=points,
            source=Source(Entry.Source.ORDER, ref),
            key=f"order:{ref}",
            available_from=placed + dt.timedelta(days=14),
        )


def test_release_pending_makes_due_points_available_once(members):
    for n, member in enumerate(members):
        _earn_pending(member, 100 + n, f"o{n}", NOON)
    late = _earn_pending(members[0], 7, "late", NOON + dt.timedelta(days=3))

    with time_machine.travel(NOON + dt.timedelta(days=15)):
        run = _run("release_pending", DAY + dt.timedelta(days=15))
        again = _run("release_pending", DAY + dt.timedelta(days=15))
        # Other chunk bounds: no chunk is skipped, the statements' own guards hold.
        regrouped = _run("release_pending", DAY + dt.timedelta(days=15), chunk_size=3)

    assert run.status == again.status == regrouped.status == "succeeded"
    assert run.counts == {"members_released": 5}
    assert again.counts == {"chunks_skipped": 3}
    assert regrouped.counts == {"members_released": 0}
    assert Entry.objects.filter(kind="release").count() == 5
    assert balance_get(member=members[1]).available == 101
    assert balance_get(member=members[0]).pending == 7
    assert Lot.objects.get(entry=late).pending is True
    released = Lot.objects.filter(pending=False)
    assert all(lot.released_by.kind == "release" for lot in released)


def test_release_into_a_debt_repays_it_first(members):
    member = members[0]
    with time_machine.travel(NOON):
        points_earn(member=member, points=50, source=Source("order", "a"), key="a")
        points_redeem(member=member, points=50, source=Source("reward", "x"), key="x")
        points_reverse(
            member=member,
            of_source=Source("order", "a"),
            points=50,
            source=Source("refund", "r"),
            key="r",
        )
    _earn_pending(member, 80, "b", NOON)

    with time_machine.travel(NOON + dt.timedelta(days=15)):
        _run("release_pending", DAY + dt.timedelta(days=15))

    assert balance_get(member=member).available == 30
    assert Lot.objects.get(entry__source_ref="b").remaining == 30


def test_expire_points_expires_due_lots_once(members):
    with time_machine.travel(NOON):
        for n, member in enumerate(members):
            points_earn(
                member=member, points=10 * (n + 1), source=Source("order", f"{n}"), key=f"{n}"
            )
    points_earn(member=members[0], points=5, source=Source("order", "fresh"), key="fresh")
    expiry_day = DAY + dt.timedelta(days=366)

    with time_machine.travel(program_midnight(expiry_day) - dt.timedelta(hours=1)):
        early = _run("expire_points", expiry_day - dt.timedelta(days=1))
    with time_machine.travel(program_midnight(expiry_day) + dt.timedelta(hours=1)):
        first = _run("expire_points", expiry_day)
        second = _run("expire_points", expiry_day)
        regrouped = _run("expire_points", expiry_day, chunk_size=3)

    assert early.counts == {"members_expired": 0}
    assert first.counts == {"members_expired": 5}
    assert second.counts == {"chunks_skipped": 3}
    assert regrouped.counts == {"members_expired": 0}
    expiries = Entry.objects.filter(kind="expire")
    assert expiries.count() == 5
    assert balance_get(member=members[0]).available == 5
    assert balance_get(member=members[4]).available == 0
    assert sorted(e.amount for e in expiries) == [-50, -40, -30, -20, -10]


def test_warn_expiring_tells_each_member_once_per_expiry_day(
    members, django_capture_on_commit_callbacks
):
    with time_machine.travel(NOON):
        points_earn(member=members[0], points=40, source=Source("order", "a"), key="a")
        points_earn(member=members[0], points=2, source=Source("order", "b"), key="b")
        points_earn(member=members[1], points=9, source=Source("order", "c"), key="c")
    warn_day = DAY + dt.timedelta(days=350)

    with (
        time_machine.travel(program_midnight(warn_day)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        first = _run("warn_expiring", warn_day)
        second = _run("warn_expiring", warn_day + dt.timedelta(days=1))

    assert first.counts == {"members_warned": 2}
    assert second.counts == {"members_warned": 0}
    assert ExpiryWarning.objects.get(member=members[0]).points == 42
    assert len(mail.outbox) == 2
    body = next(m.body for m in mail.outbox if members[0].user.email in m.to)
    assert "42 points after 2027-03-10" in body


def test_a_crash_in_the_third_chunk_then_a_rerun_processes_every_member_once(members, monkeypatch):
    for n, member in enumerate(members):
        _earn_pending(member, 10, f"o{n}", NOON)
    # chunk_size 1: five chunks; the third one fails after doing its work.
    crash_in_chunk_of(monkeypatch, "release_pending", members[2].pk)
    as_of = DAY + dt.timedelta(days=15)
    with time_machine.travel(NOON + dt.timedelta(days=15)):
        with pytest.raises(Boom):
            _run("release_pending", as_of, chunk_size=1)
        failed = JobRun.objects.get()
        assert failed.status == "failed"
        assert Entry.objects.filter(kind="release").count() == 2  # chunks 1 and 2 committed

        monkeypatch.undo()
        rerun = _run("release_pending", as_of, chunk_size=1)

    assert rerun.status == "succeeded"
    released = Entry.objects.filter(kind="release")
    assert sorted(released.values_list("member_id", flat=True)) == sorted(m.pk for m in members)
    assert all(balance_get(member=m).available == 10 for m in members)


def test_a_rerun_with_bigger_chunks_after_a_crash_releases_each_member_once(members, monkeypatch):
    """The re-run's one chunk spans members the failed run released: it applies
    the entries it writes, not every entry of the night in its range."""
    for n, member in enumerate(members):
        _earn_pending(member, 100, f"o{n}", NOON)
    crash_in_chunk_of(monkeypatch, "release_pending", members[2].pk)
    as_of = DAY + dt.timedelta(days=15)
    with time_machine.travel(NOON + dt.timedelta(days=15)):
        with pytest.raises(Boom):
            _run("release_pending", as_of, chunk_size=2)
        assert Entry.objects.filter(kind="release").count() == 2  # the first chunk committed
        monkeypatch.undo()
        rerun = _run("release_pending", as_of, chunk_size=5)

    assert rerun.counts == {"members_released": 3}
    assert Entry.objects.filter(kind="release").count() == 5
    assert [balance_get(member=m).available for m in members] == [100] * 5
    assert [balance_get(member=m).pending for m in members] == [0] * 5


def test_a_rerun_with_bigger_chunks_after_a_crash_expires_each_member_once(members, monkeypatch):
    with time_machine.travel(NOON):
        for n, member in enumerate(members):
            points_earn(member=member, points=100, source=Source("order", f"{n}"), key=f"{n}")
    crash_in_chunk_of(monkeypatch, "expire_points", members[2].pk)
    expiry_day = DAY + dt.timedelta(days=366)
    with time_machine.travel(program_midnight(expiry_day) + dt.timedelta(hours=1)):
        with pytest.raises(Boom):
            _run("expire_points", expiry_day, chunk_size=2)
        assert Entry.objects.filter(kind="expire").count() == 2
        monkeypatch.undo()
        rerun = _run("expire_points", expiry_day, chunk_size=5)

    assert rerun.counts == {"members_expired": 3}
    assert Entry.objects.filter(kind="expire").count() == 5
    assert [balance_get(member=m).available for m in members] == [0] * 5


def test_job_command_prints_progress_and_counts(members):
    out = StringIO()
    call_command("expire_points", "--as-of", "2026-03-10", "--chunk-size", "2", stdout=out)

    assert "expire_points 2026-03-10: succeeded" in out.getvalue()
    assert JobRun.objects.get().chunks.count() == 3


def test_run_nightly_runs_every_job_in_order(members):
    out = StringIO()
    call_command("run_nightly", "--as-of", "2026-03-10", stdout=out)

    jobs = list(JobRun.objects.order_by("id").values_list("job", flat=True))
    assert jobs[:3] == ["release_pending", "expire_points", "warn_expiring"]


def test_job_command_rejects_a_bad_date():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("expire_points", "--as-of", "2026-02-30")
    assert not JobRun.objects.exists()


def test_nothing_to_do_with_no_members():
    run = _run("expire_points", timezone.localdate())
    assert run.status == "succeeded"
    assert run.chunks_total == 0
