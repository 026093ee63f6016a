"""Real races on PostgreSQL: threads with their own connections on one balance."""

import pytest

from points.errors import InsufficientPoints
from points.models import Entry, Lot
from points.selectors import balance_get
from points.services import Source, points_earn, points_redeem, points_reverse
from tests.concurrency import race
from tests.factories import MemberFactory, ledger_is_clean

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_fifty_parallel_redemptions_of_100_against_1000_leave_ten_successes():
    member = MemberFactory()
    points_earn(member=member, points=1000, source=Source("order", "1"), key="seed")

    results = race(
        50,
        lambda i: points_redeem(
            member=member, points=100, source=Source("reward", str(i)), key=f"redeem-{i}"
        ),
        errors=True,
    )

    successes = [r for r in results if isinstance(r, Entry)]
    refusals = [r for r in results if isinstance(r, InsufficientPoints)]
    assert len(successes) == 10
    assert len(refusals) == 40
    assert balance_get(member=member).available == 0
    assert sum(Lot.objects.values_list("remaining", flat=True)) == 0
    assert ledger_is_clean()


def test_the_same_earn_key_from_twenty_threads_makes_one_entry():
    member = MemberFactory()

    results = race(
        20,
        lambda i: points_earn(member=member, points=250, source=Source("order", "7"), key="o-7"),
        errors=True,
    )

    assert all(isinstance(r, Entry) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert Entry.objects.count() == 1
    assert balance_get(member=member).available == 250
    assert ledger_is_clean()


def test_first_earn_of_a_new_member_from_twenty_threads_creates_one_balance_row():
    member = MemberFactory()

    results = race(
        20,
        lambda i: points_earn(
            member=member, points=1, source=Source("order", str(i)), key=f"o-{i}"
        ),
        errors=True,
    )

    assert all(isinstance(r, Entry) for r in results), results
    assert balance_get(member=member).available == 20
    assert ledger_is_clean()


def test_two_members_operations_interleaved_do_not_deadlock():
    one, two = MemberFactory(), MemberFactory()
    for member in (one, two):
        points_earn(member=member, points=10_000, source=Source("order", "seed"), key="seed")

    def work(i):
        first, second = (one, two) if i % 2 else (two, one)
        points_redeem(member=first, points=10, source=Source("reward", str(i)), key=f"r-{i}")
        points_earn(member=second, points=10, source=Source("order", str(i)), key=f"e-{i}")
        return points_reverse(
            member=second,
            of_source=Source("order", str(i)),
            points=5,
            source=Source("refund", str(i)),
            key=f"v-{i}",
        )

    results = race(16, work, errors=True)

    assert all(isinstance(r, Entry) for r in results), results
    total = balance_get(member=one).available + balance_get(member=two).available
    assert total == 20_000 - 16 * 10 + 16 * 10 - 16 * 5
    assert ledger_is_clean()
