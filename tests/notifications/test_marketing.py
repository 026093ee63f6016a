import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from members.models import Member
from notifications.models import Message
from notifications.services import in_quiet_hours, outbox_send_due, quiet_hours
from tests.factories import MemberFactory
from tests.notifications.test_outbox import NOON, queue

pytestmark = pytest.mark.django_db

MARKETING = Message.Kind.MARKETING


@pytest.fixture
def clock():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


@pytest.fixture
def consenting(clock):
    return MemberFactory(marketing_email_at=timezone.now())


def states(member):
    return list(Message.objects.filter(member=member).order_by("pk").values_list("state", "reason"))


def test_marketing_without_consent_is_suppressed_transactional_is_not(clock):
    member = MemberFactory()
    queue(member, kind=MARKETING)
    queue(member)

    outbox_send_due()

    assert states(member) == [("suppressed", "no_consent"), ("sent", "")]
    assert len(mail.outbox) == 1


def test_consent_withdrawn_between_queueing_and_sending_suppresses(consenting):
    queue(consenting, kind=MARKETING)
    Member.objects.filter(pk=consenting.pk).update(marketing_email_at=None)

    outbox_send_due()

    assert states(consenting) == [("suppressed", "no_consent")]
    assert mail.outbox == []


def test_inbox_marketing_needs_the_inbox_consent_not_the_e_mail_one(consenting):
    queue(consenting, kind=MARKETING, channel=Message.Channel.INBOX)
    inboxed = MemberFactory(marketing_inbox_at=timezone.now())
    queue(inboxed, kind=MARKETING, channel=Message.Channel.INBOX)
    queue(inboxed, kind=MARKETING)

    outbox_send_due()

    assert states(consenting) == [("suppressed", "no_consent")]
    assert states(inboxed) == [("sent", ""), ("suppressed", "no_consent")]
    assert mail.outbox == []


def test_a_fourth_marketing_message_in_7_days_is_capped_and_the_eighth_day_frees_a_slot(
    consenting, clock
):
    for _ in range(3):
        queue(consenting, kind=MARKETING)
        outbox_send_due()
        clock.shift(dt.timedelta(days=1))
    assert Message.objects.filter(state="sent").count() == 3  # the cap is reached

    queue(consenting, kind=MARKETING)  # day 4: a fourth within 7 days
    queue(consenting)  # transactional: never capped
    outbox_send_due()

    assert states(consenting)[3:] == [("suppressed", "marketing_cap"), ("sent", "")]

    clock.move_to(NOON + dt.timedelta(days=7, seconds=1))  # the first left the window
    queue(consenting, kind=MARKETING)
    outbox_send_due()

    assert states(consenting)[-1] == ("sent", "")
    assert Message.objects.filter(kind=MARKETING, state="sent").count() == 4


def test_the_cap_counts_per_channel_and_per_member(consenting, settings):
    settings.MARKETING_CAP = 1
    Member.objects.filter(pk=consenting.pk).update(marketing_inbox_at=timezone.now())
    other = MemberFactory(marketing_email_at=timezone.now())
    queue(consenting, kind=MARKETING)
    queue(other, kind=MARKETING)
    queue(consenting, kind=MARKETING, channel=Message.Channel.INBOX)

    outbox_send_due()

    assert Message.objects.filter(state="sent").count() == 3


def test_a_message_being_retried_holds_its_slot(consenting, settings):
    settings.MARKETING_CAP = 1
    first = queue(consenting, kind=MARKETING)
    Message.objects.filter(pk=first.pk).update(attempts=1)  # claimed before, failed, retrying
    queue(consenting, kind=MARKETING)

    Message.objects.filter(pk=first.pk).update(next_attempt_at=NOON + dt.timedelta(minutes=1))

    outbox_send_due()

    assert states(consenting) == [("queued", ""), ("suppressed", "marketing_cap")]


def test_of_several_due_at_once_the_earliest_go_up_to_the_cap(consenting):
    for _ in range(5):
        queue(consenting, kind=MARKETING)

    outbox_send_due()

    assert states(consenting) == [("sent", "")] * 3 + [("suppressed", "marketing_cap")] * 2


def test_marketing_waits_out_quiet_hours_transactional_does_not(consenting, clock):
    clock.move_to(dt.datetime(2026, 11, 24, 15, 30, tzinfo=dt.UTC))  # 23:30 in Shanghai
    offer = queue(consenting, kind=MARKETING)
    queue(consenting)

    assert outbox_send_due() == {"sent": 1}
    assert states(consenting) == [("queued", ""), ("sent", "")]

    clock.move_to(dt.datetime(2026, 11, 24, 23, 59, tzinfo=dt.UTC))  # 07:59
    assert outbox_send_due() == {}

    clock.move_to(dt.datetime(2026, 11, 25, 0, 0, tzinfo=dt.UTC))  # 08:00
    assert outbox_send_due() == {"sent": 1}
    offer.refresh_from_db()
    assert (offer.state, offer.attempts) == ("sent", 1)


@pytest.mark.parametrize(
    ("spec", "hour", "quiet"),
    [
        ("22-8", 22, True),
        ("22-8", 3, True),
        ("22-8", 8, False),
        ("22-8", 21, False),
        ("1-5", 2, True),
        ("1-5", 5, False),
        ("", 23, False),
    ],
)
def test_quiet_hours_in_the_programme_time_zone(settings, spec, hour, quiet):
    settings.QUIET_HOURS = spec
    shanghai = dt.datetime(2026, 11, 24, hour, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))

    assert in_quiet_hours(shanghai) is quiet


@pytest.mark.parametrize("spec", ["22", "22-24", "night", "8-x"])
def test_quiet_hours_must_be_two_hours(spec):
    with pytest.raises(ValueError, match="QUIET_HOURS"):
        quiet_hours(spec)
