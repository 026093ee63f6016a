"""A Celery worker killed inside a chunk: the chunk is delivered again to another
worker and done there once (`acks_late` with `reject_on_worker_lost`), and the
run ends `succeeded` (PostgreSQL and a real Redis broker, real worker processes)."""

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import time_machine
from celery import Celery
from django.conf import settings
from django.db import connection, transaction

from batch.models import JobRun
from batch.services import job_run_create
from points.models import Account, Entry
from points.selectors import balance_get
from points.services import Source, points_earn
from tests.concurrency import wait_until_blocked
from tests.factories import MemberFactory, ledger_is_clean

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BROKER = "redis://127.0.0.1:6379/11"  # a database of its own: no other worker's queue
ROOT = Path(__file__).resolve().parents[2]
NOON = dt.datetime(2026, 3, 10, 4, 0, tzinfo=dt.UTC)
DAY = dt.date(2026, 3, 25)  # the night the pending points of NOON are due


def _database_url():
    db = connection.settings_dict
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def _worker(name):
    """A Celery worker in its own process (one task at a time) on the test's
    database and the test broker; tasks taken by a dead worker come back after
    a second."""
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": BROKER,
        "CELERY_RESULT_BACKEND": BROKER,
        "CELERY_VISIBILITY_TIMEOUT": "1",
        "DEBUG": "true",
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "loyalty_site",
            "worker",
            "--pool=solo",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
            "-n",
            f"{name}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_for(condition, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def broker():
    app = Celery(broker=BROKER, set_as_current=False)  # the site's app stays eager
    with app.connection_for_write() as conn:
        conn.default_channel.client.flushdb()
    yield app
    with app.connection_for_write() as conn:
        conn.default_channel.client.flushdb()


@pytest.fixture
def workers():
    started = []
    yield started
    for process in started:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


def test_a_worker_killed_inside_a_chunk_leaves_every_chunk_done_once(broker, workers):
    assert settings.CELERY_TASK_ACKS_LATE and settings.CELERY_TASK_REJECT_ON_WORKER_LOST
    members = [MemberFactory() for _ in range(6)]
    with time_machine.travel(NOON):
        for n, member in enumerate(members):
            points_earn(
                member=member,
                points=100,
                source=Source("order", f"o{n}"),
                key=f"order:o{n}",
                available_from=NOON + dt.timedelta(days=14),
            )
    run = job_run_create(name="release_pending", as_of=DAY, chunk_size=2)
    chunk_ids = list(run.chunks.order_by("first_id").values_list("id", flat=True))
    assert len(chunk_ids) == 3
    middle = members[2]

    with transaction.atomic():
        # Holding the middle chunk's first balance row keeps its worker inside
        # the chunk (its transaction open, the chunk row locked) until killed.
        Account.objects.select_for_update().get(member=middle)
        for chunk_id in chunk_ids:
            broker.send_task("batch.run_chunk", args=[chunk_id])
        first = _worker("first")
        workers.append(first)
        assert wait_until_blocked(timeout=30), "the worker never reached the middle chunk"
        assert run.chunks.filter(status="succeeded").count() == 1
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    # The killed worker's connection is gone: its chunk's transaction rolls back.
    assert _wait_for(lambda: not wait_until_blocked(timeout=0.1), 10)
    assert Entry.objects.filter(kind="release").count() == 2

    workers.append(_worker("second"))
    assert _wait_for(lambda: JobRun.objects.get(pk=run.pk).status != "running", 45)

    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    assert set(run.chunks.values_list("status", flat=True)) == {"succeeded"}
    assert run.counts == {"members_released": 6}
    assert Entry.objects.filter(kind="release").count() == 6
    assert [balance_get(member=m).available for m in members] == [100] * 6
    assert ledger_is_clean()
