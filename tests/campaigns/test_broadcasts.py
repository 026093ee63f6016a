"""Staff broadcasts: an audience by tier and lifecycle stage, its reach after
consent and caps, messages queued in chunks once, and the outbox's rules again
at send time."""

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from campaigns import broadcasts
from campaigns.broadcasts import BroadcastNotDraft, broadcast_reach, broadcast_send, broadcast_start
from campaigns.models import Broadcast, MemberSegment
from members.models import Member
from notifications.models import Message, Suppression
from notifications.services import outbox_send_due
from tests.factories import MemberFactory, UserFactory
from tests.notifications.test_outbox import NOON
from tiers.models import MemberTier, Tier

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _noon():
    """Outside quiet hours, where marketing goes out at once."""
    with time_machine.travel(NOON, tick=False):
        yield


def member(tier=None, lifecycle=None, consent=True, **fields):
    made = MemberFactory(marketing_email_at=timezone.now() if consent else None, **fields)
    if tier:
        MemberTier.objects.create(
            member=made, tier=Tier.objects.get(code=tier), since=timezone.now()
        )
    if lifecycle:
        MemberSegment.objects.create(
            member=made, lifecycle=lifecycle, computed_on=dt.date(2026, 11, 30)
        )
    return made


def broadcast(**fields):
    return Broadcast.objects.create(
        name="December",
        subject="Double points all December",
        body="Every order earns twice.",
        subject_zh_hans="十二月双倍积分",
        body_zh_hans="每笔订单积分翻倍。",
        **fields,
    )


@pytest.fixture
def start(django_capture_on_commit_callbacks):
    """Send a broadcast as staff do: its task runs once the sending commits."""

    def started(sent):
        with django_capture_on_commit_callbacks(execute=True):
            broadcast_start(broadcast=sent)

    return started


def queued_to(sent):
    return set(Message.objects.filter(key=f"broadcast:{sent.pk}").values_list("member", flat=True))


def test_the_audience_is_the_tiers_and_stages_named_and_everyone_when_none_are(start):
    gold_active = member("gold", "active")
    gold_dormant = member("gold", "dormant")
    silver_active = member("silver", "active")
    untiered = member(None, "active")  # no tier row yet: the lowest tier

    named = broadcast(tiers=["gold", "silver"], segments=["active"])
    lowest = broadcast(tiers=["member"])
    everyone = broadcast()

    for sent in (named, lowest, everyone):
        start(sent)
    assert queued_to(named) == {gold_active.pk, silver_active.pk}
    assert queued_to(lowest) == {untiered.pk}
    assert queued_to(everyone) == {gold_active.pk, gold_dormant.pk, silver_active.pk, untiered.pk}


def test_the_reach_counts_out_the_inactive_the_unaddressed_the_unconsenting_and_the_capped(
    settings, start
):
    settings.MARKETING_CAP = 1
    reached = member()
    member(status=Member.Status.FROZEN)
    suppressed = member()
    Suppression.objects.create(email=suppressed.user.email.upper(), reason="bounced")
    member(consent=False)
    capped = member()
    Message.objects.create(
        member=capped,
        template="points.expiring",
        kind=Message.Kind.MARKETING,
        state=Message.State.SENT,
        sent_at=timezone.now() - dt.timedelta(days=6),
    )
    marketing = broadcast()

    reach = broadcast_reach(broadcast=marketing)

    assert (reach.audience, reach.recipients) == (5, 1)
    assert (reach.inactive, reach.no_address, reach.no_consent, reach.capped) == (1, 1, 1, 1)
    transactional = broadcast(kind=Message.Kind.TRANSACTIONAL)
    assert broadcast_reach(broadcast=transactional).recipients == 3  # consent and cap do not apply
    start(marketing)
    assert queued_to(marketing) == {reached.pk}


def test_sending_queues_in_chunks_once_and_a_second_send_is_refused(monkeypatch, start):
    monkeypatch.setattr(broadcasts, "CHUNK", 2)
    members = {member().pk for _ in range(5)}
    sent = broadcast()

    start(sent)

    sent.refresh_from_db()
    assert (sent.status, sent.recipients) == ("sent", 5)
    assert queued_to(sent) == members
    with pytest.raises(BroadcastNotDraft):
        broadcast_start(broadcast=sent)
    Broadcast.objects.filter(pk=sent.pk).update(status="sending", last_member_id=0)
    broadcast_send(broadcast_id=sent.pk)  # a task run twice, or re-run: nobody twice
    assert Message.objects.filter(key=f"broadcast:{sent.pk}").count() == 5


def test_each_member_gets_it_in_their_language_with_the_unsubscribe_link(start):
    english = member()
    chinese = member(language="zh-hans")
    traditional = member(language="zh-hant")  # no Traditional text: English

    start(broadcast())
    outbox_send_due()

    by_address = {email.to[0]: email for email in mail.outbox}
    assert by_address[english.user.email].subject == "Double points all December"
    assert "Every order earns twice." in by_address[english.user.email].body
    assert by_address[chinese.user.email].subject == "十二月双倍积分"
    assert by_address[traditional.user.email].subject == "Double points all December"
    assert "List-Unsubscribe" in by_address[english.user.email].extra_headers


def test_consent_withdrawn_after_queueing_is_honoured_at_send_time():
    withdrawn = member()
    broadcast_send(broadcast_id=broadcast_start(broadcast=broadcast()).pk)
    Member.objects.filter(pk=withdrawn.pk).update(marketing_email_at=None)

    outbox_send_due()

    assert Message.objects.get(member=withdrawn).reason == "no_consent"
    assert mail.outbox == []


def test_staff_preview_the_reach_then_send_and_the_sent_one_is_locked(
    client, django_capture_on_commit_callbacks
):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    member("gold")
    member("gold", consent=False)
    member("silver")
    response = client.post(
        reverse("admin:campaigns_broadcast_add"),
        {
            "name": "Gold news",
            "kind": "marketing",
            "channel": "email",
            "tiers": ["gold"],
            "subject": "For Gold",
            "body": "Hello Gold.",
        },
    )
    assert response.status_code == 302, response.content
    sent = Broadcast.objects.get()
    send = reverse("admin:campaigns_broadcast_send", args=[sent.pk])

    preview = client.get(send)
    assert preview.status_code == 200
    assert b'data-testid="recipients">1<' in preview.content
    assert b"Send to 1 member" in preview.content

    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(send).status_code == 302
    sent.refresh_from_db()
    assert (sent.status, sent.recipients) == ("sent", 1)
    change = client.get(reverse("admin:campaigns_broadcast_change", args=[sent.pk]))
    assert change.status_code == 200 and b'name="subject"' not in change.content
    client.post(send)
    assert Message.objects.count() == 1


def test_a_bad_broadcast_form_is_refused_with_a_message(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.post(
        reverse("admin:campaigns_broadcast_add"),
        {"name": "x", "kind": "marketing", "channel": "email", "tiers": ["platinum"]},
    )
    assert response.status_code == 200
    assert not Broadcast.objects.exists()
    assert b"errorlist" in response.content
