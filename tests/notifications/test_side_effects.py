"""Sending never fails the work that caused it: with the mail server down, what
was decided stays decided, the message waits in the outbox with the error, and
goes once the server answers again. These tests commit for real
(transaction=True), so the sends after commit run as they do in production."""

import datetime as dt

import pytest
import time_machine
from django.test import Client

from batch.models import JobChunk, JobRun
from batch.runner import job_run
from batch.services import program_midnight
from notifications.models import Message
from notifications.services import outbox_send_due
from points.models import ExpiryWarning
from points.services import Source, points_earn
from tests.api import post
from tests.factories import ApiKeyFactory, MemberFactory, OrderFactory
from tests.notifications.test_outbox import FlakyBackend
from tiers.models import MemberTier

pytestmark = pytest.mark.django_db(transaction=True)

NOON = dt.datetime(2026, 11, 24, 4, 0, tzinfo=dt.UTC)  # 12:00 in Shanghai


@pytest.fixture
def smtp_down(settings):
    settings.EMAIL_BACKEND = "tests.notifications.test_outbox.FlakyBackend"
    FlakyBackend.sent = []
    FlakyBackend.failures = 10**6
    yield FlakyBackend
    FlakyBackend.failures = 0


@pytest.fixture
def clock():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


def smtp_back_and_later(smtp_down, clock):
    smtp_down.failures = 0
    clock.shift(dt.timedelta(minutes=1))
    return outbox_send_due()


def test_an_order_answers_201_with_the_mail_server_down_and_its_notice_goes_later(smtp_down, clock):
    member = MemberFactory()
    client = Client(
        headers={"Authorization": f"Bearer {ApiKeyFactory().plaintext}"},
        raise_request_exception=False,
    )
    body = {
        "order_id": "smtp-down-1",
        "member": member.number,
        "placed_at": NOON.isoformat(),
        "currency": "CNY",
        "total": "1000.00",
        "lines": [{"sku": "TEA-1", "category": "tea", "quantity": 1, "amount": "1000.00"}],
    }

    response = post(client, "/api/v1/orders", body)

    assert response.status_code == 201, response.content
    assert MemberTier.objects.get(pk=member.pk).tier.code == "silver"
    [notice] = Message.objects.filter(member=member, template="tiers.upgrade")
    assert (notice.state, notice.attempts) == ("queued", 1)
    assert notice.reason.startswith("SMTPServerDisconnected")
    assert smtp_down.sent == []

    assert smtp_back_and_later(smtp_down, clock) == {"sent": 1}
    notice.refresh_from_db()
    assert (notice.state, notice.attempts) == ("sent", 2)
    assert [m.subject for m in smtp_down.sent] == ["Welcome to Silver"]
    assert outbox_send_due() == {}


def test_a_committed_warn_expiring_chunk_is_not_marked_failed(smtp_down, clock):
    members = [MemberFactory() for _ in range(3)]
    for n, member in enumerate(members):
        points_earn(member=member, points=10 + n, source=Source("order", f"{n}"), key=f"{n}")
    warn_day = (NOON + dt.timedelta(days=350)).date()

    clock.move_to(program_midnight(warn_day) + dt.timedelta(hours=9))
    run = job_run(name="warn_expiring", as_of=warn_day, chunk_size=2)

    assert (run.status, run.counts) == ("succeeded", {"members_warned": 3})
    assert set(JobChunk.objects.filter(run=run).values_list("status", flat=True)) == {"succeeded"}
    assert ExpiryWarning.objects.count() == 3
    assert Message.objects.filter(template="points.expiring", state="queued").count() == 3
    again = job_run(name="warn_expiring", as_of=warn_day, chunk_size=3)  # nothing to redo
    assert again.counts == {"members_warned": 0}
    assert JobRun.objects.filter(status="failed").count() == 0

    assert smtp_back_and_later(smtp_down, clock) == {"sent": 3}
    assert sorted(m.to[0] for m in smtp_down.sent) == sorted(m.user.email for m in members)


def test_a_failed_send_is_not_marked_sent_and_lost(smtp_down, clock):
    """A night's upgrade notice, sent after the chunk commits while the mail
    server is down: the chunk stands, the notice stays queued with the error."""
    member = MemberFactory()
    OrderFactory(member=member, total_minor=500_000, placed_at=NOON - dt.timedelta(days=2))

    run = job_run(name="recalc_tiers", as_of=NOON.date())

    assert run.status == "succeeded", run.error
    assert MemberTier.objects.get(pk=member.pk).tier.code == "gold"
    [notice] = Message.objects.filter(member=member, template="tiers.upgrade")
    assert (notice.state, notice.sent_at, notice.attempts) == ("queued", None, 1)
    assert notice.reason.startswith("SMTPServerDisconnected")

    assert smtp_back_and_later(smtp_down, clock) == {"sent": 1}
    assert [m.subject for m in smtp_down.sent] == ["Welcome to Gold"]
    notice.refresh_from_db()
    assert notice.state == "sent"
