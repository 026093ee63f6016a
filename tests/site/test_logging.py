import datetime as dt
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sentry_sdk
import structlog
import time_machine
from sentry_sdk.transport import Transport
from structlog.testing import capture_logs

from batch.runner import job_run
from loyalty_site.observability import logging_config, sentry_init
from tests.factories import MemberFactory, order_place

ROOT = Path(__file__).resolve().parents[2]


def _json_line(fmt_config, record):
    formatter_spec = dict(fmt_config["formatters"]["structured"])
    factory = formatter_spec.pop("()")
    return factory(**formatter_spec).format(record)


def test_json_logs_are_one_object_a_line_for_every_logger():
    config = logging_config(level="INFO", fmt="json")
    record = logging.LogRecord(
        "django.request", logging.WARNING, __file__, 1, "slow %s", ("x",), None
    )

    line = json.loads(_json_line(config, record))

    assert line["event"] == "slow x"
    assert line["level"] == "warning"
    assert line["logger"] == "django.request"
    assert line["timestamp"].endswith("Z")


def test_an_unknown_log_format_is_refused():
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        logging_config(level="INFO", fmt="xml")


@pytest.mark.django_db
def test_a_nightly_run_logs_its_run_its_chunks_and_their_member_counts():
    day = dt.date(2026, 3, 10)
    with time_machine.travel(dt.datetime(2026, 2, 10, tzinfo=dt.UTC)):
        for _ in range(3):
            order_place(MemberFactory(), 5_000)

    with capture_logs() as events, time_machine.travel(dt.datetime(2026, 3, 10, tzinfo=dt.UTC)):
        run = job_run(name="release_pending", as_of=day, chunk_size=2)

    started = [e for e in events if e["event"] == "job_run_started"]
    chunks = [e for e in events if e["event"] == "job_chunk_finished"]
    finished = [e for e in events if e["event"] == "job_run_finished"]
    assert started == [
        {
            "event": "job_run_started",
            "log_level": "info",
            "job": "release_pending",
            "as_of": "2026-03-10",
            "run_id": run.pk,
            "chunks": 2,
            "chunk_size": 2,
        }
    ]
    assert [c["members_released"] for c in chunks] == [2, 1]
    assert {c["run_id"] for c in chunks} == {run.pk}
    assert all(c["last_id"] - c["first_id"] == 1 and c["seconds"] >= 0 for c in chunks)
    assert len(finished) == 1
    assert finished[0]["members_released"] == 3
    assert finished[0]["status"] == "succeeded"


@pytest.mark.django_db
def test_a_failed_chunk_is_logged_as_an_error_with_its_range(monkeypatch):
    from batch import registry

    MemberFactory()
    job = registry.get("expire_points")

    def boom(as_of, first_id, last_id):
        raise RuntimeError("disk full")

    monkeypatch.setitem(registry._jobs, "expire_points", registry.Job(job.name, job.order, boom))

    with capture_logs() as events, pytest.raises(RuntimeError):
        job_run(name="expire_points", as_of=dt.date(2026, 3, 10))

    failed = [e for e in events if e["event"] == "job_chunk_failed"]
    assert len(failed) == 1
    assert failed[0]["log_level"] == "error"
    assert failed[0]["job"] == "expire_points"
    assert "first_id" in failed[0]


@pytest.fixture
def sentry_events():
    """Sentry set up with a transport that keeps the events here."""
    sent = []

    class Keep(Transport):
        def capture_envelope(self, envelope):
            sent.extend(item.payload.json for item in envelope.items if item.type == "event")

    yield sent, Keep
    sentry_sdk.get_client().close()
    sentry_sdk.get_global_scope().set_client(None)


def test_errors_go_to_sentry_when_a_dsn_is_set(sentry_events):
    sent, transport = sentry_events
    sentry_init(
        dsn="https://public@sentry.example.com/1",
        environment="test",
        traces_sample_rate=0.0,
        transport=transport,
    )

    try:
        raise ZeroDivisionError("in a job")
    except ZeroDivisionError:
        sentry_sdk.capture_exception()
    sentry_sdk.flush()

    assert len(sent) == 1
    assert sent[0]["exception"]["values"][0]["type"] == "ZeroDivisionError"
    assert sent[0]["environment"] == "test"


SENTRY_ACTIVE = """
import django
django.setup()
import sentry_sdk
print(sentry_sdk.get_client().is_active())
"""


@pytest.mark.parametrize(
    ("dsn", "active"), [("", "False"), ("https://k@sentry.example.com/1", "True")]
)
def test_settings_turn_sentry_on_only_with_a_dsn(dsn, active):
    env = {**os.environ, "SENTRY_DSN": dsn, "DJANGO_SETTINGS_MODULE": "loyalty_site.settings"}

    printed = subprocess.run(
        [sys.executable, "-c", SENTRY_ACTIVE], env=env, cwd=ROOT, capture_output=True, text=True
    )

    assert printed.stdout.strip() == active, printed.stderr


def test_structlog_hands_its_events_to_the_standard_handlers(caplog):
    caplog.set_level(logging.INFO)

    structlog.get_logger("loyalty.test").info("hello", members=3)

    assert any("hello" in str(r.msg) and "members" in str(r.msg) for r in caplog.records)
