import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
import time_machine
from django.db import transaction
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from batch.runner import job_run
from batch.services import program_midnight
from points.models import Entry
from points.services import Source, points_earn
from tests.api import post
from tests.factories import MemberFactory, order_place

pytestmark = pytest.mark.django_db

TOKEN = "scrape-token-for-tests"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _token(settings):
    settings.METRICS_TOKEN = TOKEN


def scrape(client):
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.content
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def value(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0


def test_metrics_are_off_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""

    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {TOKEN}", TOKEN])
def test_metrics_need_the_token(client, header):
    headers = {"Authorization": header} if header else {}

    response = client.get("/metrics", headers=headers)

    assert response.status_code == 401
    assert b"loyalty_" not in response.content


def test_api_requests_are_counted_by_url_pattern_and_status(client, api_client):
    member = MemberFactory()
    endpoint = "/api/v1/members/<number>"
    ok_before = value("loyalty_http_requests_total", endpoint=endpoint, method="GET", status="200")
    missing_before = value(
        "loyalty_http_requests_total", endpoint=endpoint, method="GET", status="404"
    )

    assert api_client.get(f"/api/v1/members/{member.number}").status_code == 200
    assert api_client.get("/api/v1/members/M99999999").status_code == 404
    samples = scrape(client)

    key = (("endpoint", endpoint), ("method", "GET"))
    assert samples["loyalty_http_requests_total", (*key, ("status", "200"))] == ok_before + 1
    assert samples["loyalty_http_requests_total", (*key, ("status", "404"))] == missing_before + 1
    count = ("loyalty_http_request_duration_seconds_count", (("endpoint", endpoint),))
    assert samples[count] >= 2


def test_orders_and_points_are_counted_once_committed(
    api_client, django_capture_on_commit_callbacks
):
    member = MemberFactory()
    orders, pending = value("loyalty_orders_total"), value("loyalty_points_total", kind="pending")
    body = {
        "order_id": "metrics-1",
        "member": member.number,
        "placed_at": "2026-11-20T10:00:00+08:00",
        "currency": "CNY",
        "total": "120.00",
        "lines": [{"sku": "TEA-1", "category": "tea", "quantity": 1, "amount": "120.00"}],
    }

    with (
        time_machine.travel(dt.datetime(2026, 11, 21, tzinfo=dt.UTC)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert post(api_client, "/api/v1/orders", body).status_code == 201
        assert post(api_client, "/api/v1/orders", body).status_code == 200  # a replay

    assert value("loyalty_orders_total") == orders + 1
    assert value("loyalty_points_total", kind="pending") == pending + 120


def test_points_of_a_rolled_back_transaction_are_not_counted(
    django_capture_on_commit_callbacks,
):
    member = MemberFactory()
    earned = value("loyalty_points_total", kind="earn")

    class Undo(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(Undo), transaction.atomic():
            points_earn(member=member, points=70, source=Source(Entry.Source.STAFF, "x"), key="x")
            raise Undo
        points_earn(member=member, points=30, source=Source(Entry.Source.STAFF, "y"), key="y")

    assert value("loyalty_points_total", kind="earn") == earned + 30


def test_nightly_jobs_report_their_latest_run_from_the_database(client):
    day = dt.date(2026, 3, 10)
    noon = dt.datetime(2026, 3, 10, 4, tzinfo=dt.UTC)
    members = [MemberFactory() for _ in range(3)]
    with time_machine.travel(noon - dt.timedelta(days=20)):
        for member in members:
            order_place(member, 10_000)

    with time_machine.travel(program_midnight(day) + dt.timedelta(minutes=5)):
        run = job_run(name="release_pending", as_of=day, chunk_size=2)
    samples = scrape(client)

    assert run.counts == {"members_released": 3}
    job = (("job", "release_pending"),)
    assert samples["loyalty_job_last_run_count", (("count", "members_released"), *job)] == 3
    finished = (*job, ("status", "succeeded"))
    assert samples["loyalty_job_last_run_duration_seconds", finished] >= 0
    assert samples["loyalty_job_last_run_finished_timestamp_seconds", finished] == (
        run.finished_at.timestamp()
    )
    assert samples["loyalty_job_last_success_timestamp_seconds", job] == (
        run.finished_at.timestamp()
    )
    assert samples["loyalty_job_runs_running", job] == 0
    assert samples["loyalty_job_runs_running", (("job", "expire_points"),)] == 0
    assert (
        "loyalty_job_last_success_timestamp_seconds",
        (("job", "expire_points"),),
    ) not in samples


COUNT_IN_A_CHILD = """
import django
django.setup()
from campaigns.metrics import ORDERS_RECORDED
ORDERS_RECORDED.inc({n})
"""


def test_metrics_add_up_the_counts_of_several_processes(client, tmp_path, monkeypatch):
    """gunicorn's workers each count in their own memory: with
    PROMETHEUS_MULTIPROC_DIR (set by gunicorn.conf.py), /metrics sums them."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    env.setdefault("DJANGO_SETTINGS_MODULE", "loyalty_site.settings")
    for n in (2, 5):
        subprocess.run(
            [sys.executable, "-c", COUNT_IN_A_CHILD.format(n=n)], env=env, cwd=ROOT, check=True
        )
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))

    samples = scrape(client)

    assert samples["loyalty_orders_total", ()] == 7
    assert ("loyalty_job_runs_running", (("job", "release_pending"),)) in samples


def test_gunicorn_config_gives_the_workers_an_empty_metrics_directory(tmp_path, monkeypatch):
    import runpy

    stale = tmp_path / "counter_123.db"
    stale.write_bytes(b"old")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))

    config["on_starting"](None)

    assert not stale.exists()
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
    config["on_starting"](None)
    made = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    assert made.is_dir()
    made.rmdir()


def test_outbox_outcomes_are_counted(client):
    from notifications.services import message_build, messages_queue, outbox_send_due

    member = MemberFactory()
    labels = {"channel": "email", "kind": "marketing", "outcome": "suppressed"}
    before = value("loyalty_outbox_messages_total", **labels)
    with time_machine.travel(dt.datetime(2026, 11, 24, 4, tzinfo=dt.UTC)):
        offer = message_build(
            member_id=member.pk,
            template="points.expiring",
            context={"warnings": []},
            kind="marketing",
        )
        messages_queue(messages=[offer])
        assert outbox_send_due() == {"suppressed": 1}  # no consent
    samples = scrape(client)

    assert samples["loyalty_outbox_messages_total", tuple(sorted(labels.items()))] == before + 1
