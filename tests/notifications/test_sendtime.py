"""Marketing at the member's usual hour: the hour they most often order in
(10:00 with no orders), moved out of quiet hours; a message claimed at another
hour waits for it, without counting an attempt; transactional never waits."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from notifications.models import Message
from notifications.sendtime import marketing_send_at, outside_quiet_hours, usual_hour
from notifications.services import outbox_send_due
from tests.factories import MemberFactory, order_place
from tests.notifications.test_outbox import NOON, queue

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _usual_hour(settings):
    settings.MARKETING_SEND_TIME = "usual_hour"


@pytest.fixture
def clock():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


def at(day, hour, minute=0):
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


def test_the_usual_hour_is_the_mode_of_the_order_hours(clock):
    member = MemberFactory()
    assert usual_hour(member_id=member.pk, now=timezone.now()) == 10  # no orders yet
    for placed in [at(1, 20, 5), at(3, 20, 40), at(5, 9), at(7, 21)]:
        order_place(member, 1000, placed_at=placed)
    assert usual_hour(member_id=member.pk, now=timezone.now()) == 20


def test_a_tie_goes_to_the_earlier_hour_and_old_orders_do_not_count(clock):
    member = MemberFactory()
    for placed in [at(10, 19), at(11, 15), at(12, 19), at(13, 15)]:
        order_place(member, 1000, placed_at=placed)
    order_place(member, 1000, placed_at=dt.datetime(2026, 3, 1, 8, tzinfo=SHANGHAI))
    assert usual_hour(member_id=member.pk, now=timezone.now()) == 15


def test_an_hour_in_quiet_hours_becomes_the_nearest_one_outside(settings):
    settings.QUIET_HOURS = "22-8"
    assert [outside_quiet_hours(h) for h in (23, 22, 2, 3, 7, 8, 21)] == [21, 21, 21, 8, 8, 8, 21]
    settings.QUIET_HOURS = ""
    assert outside_quiet_hours(23) == 23


def test_marketing_claimed_at_another_hour_waits_for_the_members_hour(clock):
    member = MemberFactory(marketing_email_at=timezone.now())
    for placed in [at(20, 20), at(21, 20, 30)]:
        order_place(member, 1000, placed_at=placed)
    marketing = queue(member, kind=Message.Kind.MARKETING)
    notice = queue(member)

    outbox_send_due()  # at noon

    marketing.refresh_from_db()
    notice.refresh_from_db()
    assert notice.state == "sent"  # transactional: at once
    expected = at(24, 20, member.pk % 60)
    assert (marketing.state, marketing.attempts) == ("queued", 0)
    assert marketing.next_attempt_at == expected

    clock.move_to(expected)
    assert marketing_send_at(member_id=member.pk, now=timezone.now()) is None
    outbox_send_due()
    marketing.refresh_from_db()
    assert (marketing.state, marketing.attempts) == ("sent", 1)


def test_a_member_whose_hour_has_passed_today_gets_it_tomorrow_at_ten(clock):
    member = MemberFactory(marketing_email_at=timezone.now())
    later = marketing_send_at(member_id=member.pk, now=timezone.now())  # noon, no orders
    assert later == at(25, 10, member.pk % 60)


def test_when_due_sends_marketing_at_once(clock, settings):
    settings.MARKETING_SEND_TIME = "when_due"
    member = MemberFactory(marketing_email_at=timezone.now())
    marketing = queue(member, kind=Message.Kind.MARKETING)
    outbox_send_due()
    marketing.refresh_from_db()
    assert marketing.state == "sent"
