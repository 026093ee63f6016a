"""The nightly points jobs racing themselves (PostgreSQL: real row locks and
concurrent connections)."""

import datetime as dt
import threading

import pytest
import time_machine
from django.core import mail
from django.db import transaction

from batch.services import program_midnight
from points.jobs import warn_expiring
from points.models import ExpiryWarning
from points.services import Source, points_earn
from tests.concurrency import in_thread, wait_until_blocked
from tests.factories import MemberFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

DAY = dt.date(2026, 3, 10)
NOON = dt.datetime(2026, 3, 10, 4, 0, tzinfo=dt.UTC)  # 12:00 in Shanghai


def test_two_warn_expiring_chunks_at_once_record_and_tell_each_member_once():
    """The second chunk's insert waits on the first's uncommitted warnings, then
    finds them: it records nothing and sends nothing, and does not fail."""
    members = [MemberFactory() for _ in range(3)]
    with time_machine.travel(NOON):
        for n, member in enumerate(members):
            points_earn(member=member, points=10 + n, source=Source("order", f"{n}"), key=f"{n}")
    warn_day = DAY + dt.timedelta(days=350)
    first_id, last_id = members[0].pk, members[-1].pk
    inserted = threading.Event()

    def first_run():
        with transaction.atomic():
            counts = warn_expiring(warn_day, first_id, last_id)
            inserted.set()
            assert wait_until_blocked(), "the second run never waited on the first"
        return counts

    def second_run():
        inserted.wait(10)
        with transaction.atomic():
            return warn_expiring(warn_day, first_id, last_id)

    with time_machine.travel(program_midnight(warn_day)):
        first, second = in_thread(first_run), in_thread(second_run)
        first.join()
        second.join()

    print("SECOND", repr(second.result))
    assert first.result == {"members_warned": 3}
    assert second.result == {"members_warned": 0}
    assert ExpiryWarning.objects.count() == 3
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        member.user.email for member in members
    )
