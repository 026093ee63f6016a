"""One run of a job and day at a time, and no future day by mistake."""

import datetime as dt

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from batch.errors import JobRunning
from batch.models import JobRun
from batch.runner import job_run
from batch.services import job_run_create, program_today
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 3, 10)


@pytest.fixture
def members():
    return [MemberFactory() for _ in range(3)]


def test_a_second_start_of_a_running_job_and_day_is_refused_naming_the_run(members):
    under_way = job_run_create(name="expire_points", as_of=DAY, chunk_size=2)

    with pytest.raises(JobRunning) as refused:
        job_run(name="expire_points", as_of=DAY, chunk_size=2)

    assert refused.value.holder == under_way
    assert f"run {under_way.pk}" in str(refused.value)
    assert JobRun.objects.count() == 1
    # Another job, or another day, is not held up.
    assert job_run(name="expire_points", as_of=DAY - dt.timedelta(days=1)).status == "succeeded"
    assert job_run(name="release_pending", as_of=DAY).status == "succeeded"


def test_the_command_says_which_run_holds_the_day_and_fails(members):
    under_way = job_run_create(name="expire_points", as_of=DAY)

    with pytest.raises(CommandError, match=f"already running: run {under_way.pk}, started"):
        call_command("expire_points", "--as-of", DAY.isoformat())
    assert JobRun.objects.count() == 1


def test_a_run_with_no_progress_for_the_stale_time_is_taken_over(members, settings):
    settings.BATCH_STALE_RUN_MINUTES = 30
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        lost = job_run_create(name="expire_points", as_of=DAY, chunk_size=2)
    with (
        time_machine.travel(start + dt.timedelta(minutes=29), tick=False),
        pytest.raises(JobRunning),
    ):
        job_run(name="expire_points", as_of=DAY, chunk_size=2)

    with time_machine.travel(start + dt.timedelta(minutes=31), tick=False):
        rerun = job_run(name="expire_points", as_of=DAY, chunk_size=2)

    lost.refresh_from_db()
    assert (lost.status, lost.error) == ("failed", "abandoned: no progress for 30 minutes")
    assert rerun.status == "succeeded"


def test_a_run_whose_chunks_progress_is_not_stale(members, settings):
    settings.BATCH_STALE_RUN_MINUTES = 30
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        slow = job_run_create(name="expire_points", as_of=DAY, chunk_size=2)
    slow.chunks.filter(first_id=members[0].pk).update(
        status="succeeded", finished_at=start + dt.timedelta(minutes=20)
    )

    with (
        time_machine.travel(start + dt.timedelta(minutes=45), tick=False),
        pytest.raises(JobRunning),
    ):
        job_run(name="expire_points", as_of=DAY, chunk_size=2)
    slow.refresh_from_db()
    assert slow.status == "running"


@pytest.mark.parametrize("command", ["expire_points", "run_nightly"])
def test_a_day_after_today_is_refused_without_allow_future(members, command):
    tomorrow = program_today() + dt.timedelta(days=1)

    with pytest.raises(CommandError, match="--allow-future"):
        call_command(command, "--as-of", tomorrow.isoformat())
    assert not JobRun.objects.exists()

    call_command(command, "--as-of", tomorrow.isoformat(), "--allow-future")
    assert JobRun.objects.filter(as_of=tomorrow, status="succeeded").exists()


def test_today_needs_no_allow_future(members):
    call_command("expire_points", "--as-of", program_today().isoformat())
    assert JobRun.objects.get().status == "succeeded"
