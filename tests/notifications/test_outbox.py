import datetime as dt
import smtplib
import threading
from io import StringIO

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.db import connection, transaction

from members.models import Member
from notifications import services
from notifications.models import Message
from notifications.services import message_build, messages_queue, outbox_send_due
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

# 12:00 on a Tuesday in Shanghai: outside quiet hours.
NOON = dt.datetime(2026, 11, 24, 4, 0, tzinfo=dt.UTC)
WARNINGS = {"warnings": [{"points": 1200, "expires_on": "2026-12-20"}]}


@pytest.fixture(autouse=True)
def _noon():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


def queue(member, *, kind=Message.Kind.TRANSACTIONAL, channel=Message.Channel.EMAIL, key=""):
    messages_queue(
        messages=[
            message_build(
                member_id=member.pk,
                template="points.expiring",
                context=WARNINGS,
                kind=kind,
                channel=channel,
                key=key,
            )
        ]
    )
    return Message.objects.filter(member=member).latest("pk")


class FlakyBackend:
    """An e-mail backend whose first `failures` sends raise, as SMTP does when down."""

    failures = 0
    sent: list = []

    def __init__(self, *args, **kwargs):
        pass

    def open(self):
        return False

    def close(self):
        pass

    def send_messages(self, messages):
        if FlakyBackend.failures:
            FlakyBackend.failures -= 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        FlakyBackend.sent.extend(messages)
        return len(messages)


@pytest.fixture
def flaky(settings):
    settings.EMAIL_BACKEND = f"{__name__}.FlakyBackend"
    FlakyBackend.sent = []
    FlakyBackend.failures = 0
    return FlakyBackend


def test_a_message_goes_once_its_transaction_commits(django_capture_on_commit_callbacks):
    member = MemberFactory()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        message = queue(member)
        assert mail.outbox == []

    assert len(callbacks) == 1
    message.refresh_from_db()
    assert (message.state, message.attempts, message.sent_at) == ("sent", 1, NOON)
    [email] = mail.outbox
    assert email.to == [member.user.email]
    assert email.subject == "Your points are expiring soon"
    assert "1,200 points after 2026-12-20" in email.body
    assert email.body.startswith(settings.PROGRAM_NAME)
    assert f"{settings.SITE_URL}/me/profile/" in email.body
    [(html, mimetype)] = email.alternatives
    assert mimetype == "text/html"
    assert "1,200 points after 2026-12-20" in html
    assert f"<title>{email.subject}</title>" in html
    assert "as a member of" in html


def test_a_message_queued_in_a_transaction_rolled_back_is_not_queued(
    django_capture_on_commit_callbacks,
):
    member = MemberFactory()

    class Undo(Exception):
        pass

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(Undo),
        transaction.atomic(),
    ):
        queue(member)
        raise Undo

    assert not Message.objects.exists()
    assert mail.outbox == []


def test_the_member_language_picks_the_translation():
    member = MemberFactory(language="zh-hans")
    queue(member)

    outbox_send_due()

    assert mail.outbox[0].subject == "您的积分即将过期"


def test_html_escapes_what_the_text_keeps(settings):
    settings.PROGRAM_NAME = "Tea & <Cups>"
    queue(MemberFactory())

    outbox_send_due()

    [email] = mail.outbox
    assert email.body.startswith("Tea & <Cups>")
    assert "Tea &amp; &lt;Cups&gt;" in email.alternatives[0][0]


def test_a_send_that_fails_twice_then_succeeds_is_sent_once_after_3_attempts(flaky, _noon):
    message = queue(MemberFactory())
    flaky.failures = 2

    first = outbox_send_due()
    message.refresh_from_db()
    assert first == {"retrying": 1}
    assert (message.state, message.attempts) == ("queued", 1)
    assert message.reason == "SMTPServerDisconnected: Connection unexpectedly closed"
    assert message.next_attempt_at == NOON + dt.timedelta(minutes=1)
    assert outbox_send_due() == {}  # not due again yet

    _noon.shift(dt.timedelta(minutes=1))
    assert outbox_send_due() == {"retrying": 1}
    message.refresh_from_db()
    assert message.next_attempt_at == NOON + dt.timedelta(minutes=1 + 2)  # backoff doubles

    _noon.shift(dt.timedelta(minutes=2))
    assert outbox_send_due() == {"sent": 1}
    assert outbox_send_due() == {}

    message.refresh_from_db()
    assert (message.state, message.attempts, message.reason) == ("sent", 3, "")
    assert len(flaky.sent) == 1


def test_a_message_that_keeps_failing_is_given_up_with_its_reason(flaky, _noon):
    message = queue(MemberFactory())
    flaky.failures = services.MAX_ATTEMPTS

    for _ in range(services.MAX_ATTEMPTS):
        outbox_send_due()
        _noon.shift(services.BACKOFF_MAX)

    message.refresh_from_db()
    assert (message.state, message.attempts) == ("failed", services.MAX_ATTEMPTS)
    assert message.reason.startswith("SMTPServerDisconnected")
    assert outbox_send_due() == {}


def test_a_second_sender_never_sends_a_message_the_first_has_claimed(monkeypatch):
    """The sender's task may run twice at once (a retry, beat and a commit): the
    second finds the first's messages claimed."""
    members = [MemberFactory() for _ in range(3)]
    for member in members:
        queue(member)
    inner = []
    real_email = services._email

    def email_and_race(message, connection):
        if not inner:
            inner.append(outbox_send_due())  # a second sender, mid-way through the first
        real_email(message, connection)

    monkeypatch.setattr(services, "_email", email_and_race)

    assert outbox_send_due() == {"sent": 3}
    assert inner == [{}]
    assert sorted(m.to[0] for m in mail.outbox) == sorted(m.user.email for m in members)


def test_a_claim_left_by_a_crashed_sender_is_taken_again_after_its_lease(_noon, monkeypatch):
    message = queue(MemberFactory())

    def crash(message, connection):
        raise SystemExit  # the worker dies: nothing is recorded

    monkeypatch.setattr(services, "_email", crash)
    with pytest.raises(SystemExit):
        outbox_send_due()
    monkeypatch.undo()
    assert outbox_send_due() == {}

    _noon.shift(services.LEASE)
    assert outbox_send_due() == {"sent": 1}
    message.refresh_from_db()
    assert (message.state, message.attempts) == ("sent", 2)


def test_a_key_queues_a_message_once_per_member():
    member = MemberFactory()
    queue(member, key="points.expiring:2026-12-20")
    queue(member, key="points.expiring:2026-12-20")
    queue(MemberFactory(), key="points.expiring:2026-12-20")

    assert Message.objects.count() == 2


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"status": Member.Status.FROZEN}, "member_inactive"),
        ({"status": Member.Status.CLOSED}, "member_inactive"),
        ({"email": None}, "no_address"),
    ],
)
def test_a_member_who_cannot_be_written_to_is_suppressed_with_the_reason(change, reason):
    member = MemberFactory()
    message = queue(member)
    if "email" in change:
        member.user.email = None
        member.user.save()
    else:
        Member.objects.filter(pk=member.pk).update(**change)

    assert outbox_send_due() == {"suppressed": 1}

    message.refresh_from_db()
    assert (message.state, message.reason) == ("suppressed", reason)
    assert mail.outbox == []


def test_an_inbox_message_is_stored_for_the_portal_without_an_email():
    member = MemberFactory()
    message = queue(member, channel=Message.Channel.INBOX)

    assert outbox_send_due() == {"sent": 1}

    message.refresh_from_db()
    assert (message.state, message.sent_at, message.read_at) == ("sent", NOON, None)
    assert mail.outbox == []
    rendered = services.message_render(message)
    assert rendered["subject"] == "Your points are expiring soon"
    assert "1,200 points after 2026-12-20" in rendered["body"]


def test_a_broker_that_does_not_answer_never_fails_the_work_that_queued(
    monkeypatch, django_capture_on_commit_callbacks
):
    from notifications.tasks import send_outbox

    def broker_down(*args, **kwargs):
        raise ConnectionError("redis: connection refused")

    monkeypatch.setattr(send_outbox, "delay", broker_down)
    member = MemberFactory()

    with django_capture_on_commit_callbacks(execute=True):
        queue(member)

    assert Message.objects.get(member=member).state == "queued"
    assert outbox_send_due() == {"sent": 1}  # beat or cron sends it


def test_send_outbox_command_sends_what_is_due():
    queue(MemberFactory())
    out = StringIO()

    call_command("send_outbox", stdout=out)
    call_command("send_outbox", stdout=out)

    assert out.getvalue().splitlines() == ["send_outbox: sent=1", "send_outbox: nothing due"]
    assert len(mail.outbox) == 1


def test_beat_sends_the_outbox_every_minute():
    entry = settings.CELERY_BEAT_SCHEDULE["outbox"]

    assert entry["task"] == "notifications.send_outbox"
    assert entry["schedule"] == 60.0


def test_staff_resend_queues_a_failed_message_again(admin_client):
    message = queue(MemberFactory())
    Message.objects.filter(pk=message.pk).update(state="failed", attempts=10, reason="x")

    response = admin_client.post(
        "/admin/notifications/message/",
        {"action": "resend", "_selected_action": [message.pk]},
    )

    assert response.status_code == 302
    message.refresh_from_db()
    assert (message.state, message.attempts, message.reason) == ("queued", 0, "")
    assert admin_client.get("/admin/notifications/message/?state__exact=queued").status_code == 200
    assert admin_client.get(f"/admin/notifications/message/{message.pk}/change/").status_code == 200


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_senders_at_once_send_each_message_once():
    members = [MemberFactory() for _ in range(120)]
    # Written without the send after commit, which would run at once here (eager).
    Message.objects.bulk_create(
        message_build(member_id=member.pk, template="points.expiring", context=WARNINGS)
        for member in members
    )
    barrier = threading.Barrier(2)
    results = []

    def sender():
        barrier.wait()
        try:
            results.append(outbox_send_due())
        finally:
            connection.close()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(r.get("sent", 0) for r in results) == 120
    assert sorted(m.to[0] for m in mail.outbox) == sorted(m.user.email for m in members)
    assert Message.objects.filter(state="sent", attempts=1).count() == 120


@pytest.mark.parametrize("reason", ["bounced", "complained", "manual"])
def test_an_address_on_the_suppression_list_is_not_written_to(reason):
    from notifications.models import Suppression

    member = MemberFactory()
    Suppression.objects.create(email=member.user.email.upper(), reason=reason)
    message = queue(member)
    other = queue(MemberFactory())

    assert outbox_send_due() == {"suppressed": 1, "sent": 1}

    message.refresh_from_db()
    assert (message.state, message.reason) == ("suppressed", f"address_{reason}")
    assert [m.to for m in mail.outbox] == [[other.member.user.email]]


def test_staff_keep_the_suppression_list_in_the_admin(admin_client):
    response = admin_client.post(
        "/admin/notifications/suppression/add/",
        {"email": "gone@example.com", "reason": "bounced", "note": "550 no such user"},
    )

    assert response.status_code == 302
    assert admin_client.get("/admin/notifications/suppression/").status_code == 200
