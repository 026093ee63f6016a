import datetime as dt

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from members.models import Member
from points.errors import (
    AlreadyCancelled,
    EmailNotVerified,
    IdempotencyConflict,
    InsufficientPoints,
    InvalidPoints,
    MemberInactive,
)
from points.ledger_sql import Balance
from points.models import Account, Entry, Lot, LotUse
from points.selectors import balance_get, history_page, points_expiring
from points.services import (
    Credit,
    Source,
    lock_account,
    points_adjust,
    points_cancel_redemption,
    points_earn,
    points_earn_together,
    points_expire_due,
    points_redeem,
    points_reverse,
)
from tests.factories import MemberFactory, UserFactory

pytestmark = pytest.mark.django_db

CHECKOUT = Source(Entry.Source.REWARD, "checkout")


def _balance(member):
    return balance_get(member=member)


def test_earn_makes_an_entry_a_lot_and_moves_the_balance(member, key, order):
    entry = points_earn(member=member, points=120, source=order(), key=key())

    assert (entry.kind, entry.amount, entry.balance_after) == ("earn", 120, 120)
    lot = Lot.objects.get()
    assert (lot.original, lot.remaining, lot.pending) == (120, 120, False)
    assert lot.expires_at > timezone.now() + dt.timedelta(days=365)
    assert _balance(member).available == 120
    assert Account.objects.get().lifetime_earned == 120


def test_lot_expires_at_the_programme_midnight_after_twelve_months(member, key, order):
    with time_machine.travel(dt.datetime(2026, 2, 28, 20, 0, tzinfo=dt.UTC)):  # 03-01 04:00 CST
        points_earn(member=member, points=10, source=order(), key=key())

    lot = Lot.objects.get()
    assert lot.expires_at == dt.datetime(2027, 3, 1, 16, 0, tzinfo=dt.UTC)  # 2027-03-02 00:00 CST


def test_pending_earn_is_not_spendable(member, key, order):
    later = timezone.now() + dt.timedelta(days=14)
    entry = points_earn(member=member, points=80, source=order(), key=key(), available_from=later)

    assert (entry.kind, entry.amount, entry.pending_change) == ("pending", 0, 80)
    assert _balance(member).pending == 80
    assert _balance(member).available == 0
    with pytest.raises(InsufficientPoints):
        points_redeem(member=member, points=1, source=CHECKOUT, key=key())


def test_redeem_exactly_the_balance(member, key, order):
    points_earn(member=member, points=500, source=order(), key=key())

    entry = points_redeem(member=member, points=500, source=CHECKOUT, key=key())

    assert (entry.amount, entry.balance_after) == (-500, 0)
    assert Lot.objects.get().remaining == 0


def test_redeem_one_more_than_the_balance_is_refused_and_writes_nothing(member, key, order):
    points_earn(member=member, points=500, source=order(), key=key())
    entries, uses = Entry.objects.count(), LotUse.objects.count()

    with pytest.raises(InsufficientPoints):
        points_redeem(member=member, points=501, source=CHECKOUT, key=key())

    assert Entry.objects.count() == entries
    assert LotUse.objects.count() == uses
    assert _balance(member).available == 500
    assert Lot.objects.get().remaining == 500


def test_redeem_takes_the_lots_that_expire_first(member, key, order):
    with time_machine.travel(timezone.now() - dt.timedelta(days=200)):
        points_earn(member=member, points=100, source=order("old"), key=key())
    points_earn(member=member, points=100, source=order("new"), key=key())

    points_redeem(member=member, points=150, source=CHECKOUT, key=key())

    old, new = Lot.objects.order_by("expires_at")
    assert (old.remaining, new.remaining) == (0, 50)


@pytest.mark.parametrize("points", [0, -5, 10**13, 1.5, True, "10"])
def test_invalid_amounts_are_refused(member, key, order, points):
    with pytest.raises(InvalidPoints):
        points_earn(member=member, points=points, source=order(), key=key())
    assert not Entry.objects.exists()


def test_same_key_twice_has_one_effect_and_returns_the_first_entry(member, key, order):
    k = key()
    first = points_earn(member=member, points=70, source=order(), key=k)
    second = points_earn(member=member, points=70, source=order(), key=k)

    assert first.pk == second.pk
    assert _balance(member).available == 70
    assert Lot.objects.count() == 1


def test_a_pending_earn_replayed_after_its_window_gets_the_first_entry(member, key, order):
    later = timezone.now() + dt.timedelta(days=14)
    arguments = {"member": member, "points": 80, "source": order(), "key": key()}
    first = points_earn(**arguments, available_from=later)

    with time_machine.travel(later + dt.timedelta(days=1)):
        assert points_earn(**arguments, available_from=later) == first
    assert Entry.objects.count() == 1


def test_same_key_with_other_arguments_is_a_conflict(member, key, order):
    k = key()
    points_earn(member=member, points=70, source=order(), key=k)

    with pytest.raises(IdempotencyConflict):
        points_earn(member=member, points=71, source=order(), key=k)
    with pytest.raises(IdempotencyConflict):
        points_redeem(member=member, points=70, source=CHECKOUT, key=k)
    assert _balance(member).available == 70


def test_same_key_for_two_members_is_two_operations(key, order):
    one, two = MemberFactory(), MemberFactory()
    points_earn(member=one, points=5, source=order(), key="shared")
    points_earn(member=two, points=5, source=order(), key="shared")

    assert Entry.objects.count() == 2


def test_reverse_after_spending_leaves_a_debt_that_blocks_redemption(member, key, order):
    points_earn(member=member, points=100, source=order(), key=key())
    points_redeem(member=member, points=80, source=CHECKOUT, key=key())

    entry = points_reverse(
        member=member,
        of_source=order(),
        points=100,
        source=Source(Entry.Source.REFUND, "r1"),
        key=key(),
    )

    assert (entry.kind, entry.amount, entry.balance_after) == ("reverse", -100, -80)
    assert _balance(member).debt == 80
    with pytest.raises(InsufficientPoints):
        points_redeem(member=member, points=1, source=CHECKOUT, key=key())


def _debt_of_100(member, key, order):
    """100 points earned and spent, then the order refunded: a debt of 100."""
    points_earn(member=member, points=100, source=order(), key=key())
    points_redeem(member=member, points=100, source=CHECKOUT, key=key())
    points_reverse(
        member=member,
        of_source=order(),
        points=100,
        source=Source(Entry.Source.REFUND, "r1"),
        key=key(),
    )


def test_earnings_repay_a_debt_first(member, key, order):
    _debt_of_100(member, key, order)

    entry = points_earn(member=member, points=130, source=order("1002"), key=key())

    assert entry.balance_after == 30
    lot = Lot.objects.get(entry=entry)
    assert (lot.original, lot.remaining) == (130, 30)
    points_redeem(member=member, points=30, source=CHECKOUT, key=key())
    assert _balance(member).available == 0


def _earn_together(member, credits):
    with transaction.atomic():
        locked = Balance.of(lock_account(member_id=member.pk))
        return points_earn_together(member=member, credits=credits, locked=locked)


def test_earned_together_each_credit_is_an_earning_of_its_own_that_repays_a_debt_first(
    member, key, order
):
    _debt_of_100(member, key, order)

    entries = _earn_together(
        member,
        [Credit(60, order("1002"), key()), Credit(70, order("1003"), key(), reason="bonus")],
    )

    assert [(e.amount, e.balance_after, e.source_ref, e.reason) for e in entries] == [
        (60, -40, "1002", ""),
        (70, 30, "1003", "bonus"),
    ]
    lots = [Lot.objects.get(entry_id=e.pk) for e in entries]
    assert [(lot.original, lot.remaining) for lot in lots] == [(60, 0), (70, 30)]
    assert _balance(member).available == 30
    assert Account.objects.get().lifetime_earned == 230


def test_earned_together_again_gets_the_first_entries_and_writes_nothing(member, key, order):
    credits = [Credit(60, order("1002"), key()), Credit(70, order("1003"), key())]
    first = _earn_together(member, credits)

    again = _earn_together(member, credits)

    assert [e.pk for e in again] == [e.pk for e in first]
    assert Entry.objects.count() == 2
    assert _balance(member).available == 130


def test_earned_together_with_a_key_used_before_is_a_conflict_and_writes_nothing(
    member, key, order
):
    used = key()
    points_earn(member=member, points=60, source=order("1002"), key=used)

    with pytest.raises(IdempotencyConflict):
        _earn_together(member, [Credit(60, order("1002"), used), Credit(70, order("1003"), key())])

    assert Entry.objects.count() == 1
    assert _balance(member).available == 60


def test_reverse_takes_pending_points_first(member, key, order):
    points_earn(member=member, points=50, source=order("a"), key=key())
    later = timezone.now() + dt.timedelta(days=14)
    points_earn(member=member, points=40, source=order("b"), key=key(), available_from=later)

    entry = points_reverse(
        member=member,
        of_source=order("b"),
        points=40,
        source=Source(Entry.Source.REFUND, "r"),
        key=key(),
    )

    assert (entry.amount, entry.pending_change) == (0, -40)
    assert _balance(member).available == 50
    assert _balance(member).pending == 0


def test_reverse_never_takes_more_than_the_source_earned(member, key, order):
    points_earn(member=member, points=100, source=order(), key=key())
    refund = Source(Entry.Source.REFUND, "r")
    points_reverse(member=member, of_source=order(), points=60, source=refund, key=key())
    points_reverse(member=member, of_source=order(), points=40, source=refund, key=key())

    with pytest.raises(InvalidPoints):
        points_reverse(member=member, of_source=order(), points=1, source=refund, key=key())
    assert _balance(member).available == 0


def test_reverse_of_a_source_that_earned_nothing_does_nothing(member, key, order):
    refund = Source(Entry.Source.REFUND, "r")
    entry = points_reverse(member=member, of_source=order(), points=5, source=refund, key=key())

    assert entry is None
    assert not Entry.objects.exists()


def test_cancel_gives_points_back_to_the_lots_they_came_from(member, key, order):
    points_earn(member=member, points=100, source=order(), key=key())
    redemption = points_redeem(member=member, points=60, source=CHECKOUT, key=key())

    entry = points_cancel_redemption(redemption=redemption, key=key())

    assert (entry.kind, entry.amount, entry.balance_after) == ("cancel", 60, 100)
    assert Lot.objects.get().remaining == 100
    with pytest.raises(AlreadyCancelled):
        points_cancel_redemption(redemption=redemption, key=key())


def test_cancel_gives_points_whose_lot_expired_meanwhile_back_expired(member, key, order):
    start = timezone.now()
    points_earn(member=member, points=100, source=order("a"), key=key())
    with time_machine.travel(start + dt.timedelta(days=100)):
        points_earn(member=member, points=100, source=order("b"), key=key())
        redemption = points_redeem(member=member, points=150, source=CHECKOUT, key=key())

    with time_machine.travel(start + dt.timedelta(days=400)):  # lot a expired, lot b not
        entry = points_cancel_redemption(redemption=redemption, key=key())

        assert (entry.kind, entry.amount) == ("cancel", 150)
        expiry = Entry.objects.get(kind="expire")
        assert (expiry.amount, expiry.balance_after) == (-100, 100)
        assert expiry.lot_uses.get().lot.entry.source_ref == "a"
        assert sorted(Lot.objects.values_list("remaining", flat=True)) == [0, 100]
        assert not Lot.objects.filter(entry=entry).exists()  # no new life for the points
        assert _balance(member).available == 100


def test_cancel_after_expiry_does_not_repay_a_debt_with_expired_points(member, key, order):
    start = timezone.now()
    staff = UserFactory(is_staff=True, is_superuser=True)
    points_earn(member=member, points=100, source=order("a"), key=key())
    redemption = points_redeem(member=member, points=100, source=CHECKOUT, key=key())

    with time_machine.travel(start + dt.timedelta(days=400)):
        points_adjust(member=member, points=-30, actor=staff, reason="fraud", key=key())
        points_cancel_redemption(redemption=redemption, key=key())

        assert _balance(member).available == -30
        assert Entry.objects.get(kind="expire").amount == -100


def test_redeem_never_spends_points_past_their_expiry(member, key, order):
    start = timezone.now()
    points_earn(member=member, points=100, source=order(), key=key())

    with time_machine.travel(start + dt.timedelta(days=400)):
        with pytest.raises(InsufficientPoints):
            points_redeem(member=member, points=1, source=CHECKOUT, key=key())
        # The expiry rolled back with the refusal; the points no longer show.
        assert Account.objects.get().available == 100
        assert not Entry.objects.filter(kind="expire").exists()
        assert _balance(member).available == 0

        points_earn(member=member, points=10, source=order("2"), key=key())
        points_redeem(member=member, points=10, source=CHECKOUT, key=key())
        assert _balance(member).available == 0
        assert Entry.objects.filter(kind="expire").get().amount == -100


def test_the_balance_leaves_out_points_past_their_expiry_before_the_night(member, key, order):
    start = timezone.now()
    points_earn(member=member, points=100, source=order(), key=key())
    points_earn(member=member, points=30, source=order("2"), key=key())
    Lot.objects.filter(original=30).update(expires_at=start + dt.timedelta(days=500))

    with time_machine.travel(start + dt.timedelta(days=400)):
        assert Account.objects.get().available == 130  # the nightly job has not run
        assert _balance(member).available == 30

        Member.objects.filter(pk=member.pk).update(status=Member.Status.FROZEN)
        member.refresh_from_db()
        assert _balance(member).available == 130  # a frozen member's points do not expire


def test_cancel_after_expiry_repays_the_debt_a_refund_of_those_points_left(member, key, order):
    start = timezone.now()
    points_earn(member=member, points=500, source=order(), key=key())
    redemption = points_redeem(member=member, points=500, source=CHECKOUT, key=key())
    refund = Source(Entry.Source.REFUND, "r")
    points_reverse(member=member, of_source=order(), points=300, source=refund, key=key())
    assert _balance(member).available == -300

    with time_machine.travel(start + dt.timedelta(days=400)):
        points_cancel_redemption(redemption=redemption, key=key())

        # the 300 refunded came back; the 200 left of the order expired
        assert _balance(member).available == 0
        assert Entry.objects.get(kind="expire").amount == -200
        assert (
            points_reverse(member=member, of_source=order(), points=200, source=refund, key=key())
            is None
        )


def test_reverse_takes_nothing_of_points_that_expired(member, key, order):
    start = timezone.now()
    points_earn(member=member, points=500, source=order(), key=key())

    with time_machine.travel(start + dt.timedelta(days=400)):
        points_expire_due(first_id=member.pk, last_id=member.pk, cutoff=timezone.now())
        assert _balance(member).available == 0
        refund = Source(Entry.Source.REFUND, "r")
        entry = points_reverse(
            member=member, of_source=order(), points=500, source=refund, key=key()
        )

        assert entry is None
        assert _balance(member).available == 0


def test_reverse_takes_back_what_was_spent_but_not_what_expired(member, key, order):
    start = timezone.now()
    points_earn(member=member, points=500, source=order(), key=key())
    points_redeem(member=member, points=300, source=CHECKOUT, key=key())

    with time_machine.travel(start + dt.timedelta(days=400)):
        points_expire_due(first_id=member.pk, last_id=member.pk, cutoff=timezone.now())
        refund = Source(Entry.Source.REFUND, "r")
        half = points_reverse(
            member=member, of_source=order(), points=250, source=refund, key=key()
        )
        rest = points_reverse(
            member=member, of_source=order(), points=250, source=refund, key=key()
        )

        assert (half.amount, rest.amount) == (-250, -50)
        assert _balance(member).available == -300


def test_reverse_treats_points_past_expiry_as_expired(member, key, order):
    start = timezone.now()
    points_earn(member=member, points=500, source=order(), key=key())

    with time_machine.travel(start + dt.timedelta(days=400)):  # the nightly job has not run
        refund = Source(Entry.Source.REFUND, "r")
        entry = points_reverse(
            member=member, of_source=order(), points=500, source=refund, key=key()
        )

        assert entry is None
        assert Entry.objects.get(kind="expire").amount == -500
        assert _balance(member).available == 0


def test_reverse_takes_no_other_lot_past_expiry(member, key, order):
    start = timezone.now()
    staff = UserFactory(is_staff=True, is_superuser=True)
    points_adjust(member=member, points=-100, actor=staff, reason="fraud", key=key())
    points_earn(member=member, points=100, source=order("b"), key=key())  # repays the debt
    points_earn(member=member, points=100, source=order("a"), key=key())

    with time_machine.travel(start + dt.timedelta(days=400)):  # lot a past expiry
        refund = Source(Entry.Source.REFUND, "r")
        entry = points_reverse(
            member=member, of_source=order("b"), points=100, source=refund, key=key()
        )

        assert entry.amount == -100
        assert Entry.objects.get(kind="expire").amount == -100
        assert _balance(member).available == -100
        assert not LotUse.objects.filter(entry=entry).exists()


def test_debit_adjustment_treats_points_past_expiry_as_expired(member, key, order):
    start = timezone.now()
    staff = UserFactory(is_staff=True, is_superuser=True)
    points_earn(member=member, points=100, source=order("a"), key=key())
    with time_machine.travel(start + dt.timedelta(days=200)):
        points_earn(member=member, points=100, source=order("b"), key=key())

    with time_machine.travel(start + dt.timedelta(days=400)):  # lot a past expiry, b not
        entry = points_adjust(member=member, points=-50, actor=staff, reason="fix", key=key())
        again = points_adjust(
            member=member, points=-50, actor=staff, reason="fix", key=entry.idempotency_key
        )

        assert again == entry
        assert Entry.objects.get(kind="expire").amount == -100
        assert entry.balance_after == 50
        assert LotUse.objects.get(entry=entry).lot.entry.source_ref == "b"
        points_expire_due(first_id=member.pk, last_id=member.pk, cutoff=timezone.now())
        assert _balance(member).available == 50


def test_adjust_needs_a_reason_and_may_leave_a_debt(member, key, order):
    staff = UserFactory(is_staff=True, is_superuser=True)
    points_earn(member=member, points=10, source=order(), key=key())

    with pytest.raises(InvalidPoints):
        points_adjust(member=member, points=5, actor=staff, reason=" ", key=key())
    entry = points_adjust(member=member, points=-25, actor=staff, reason="fraud", key=key())

    assert (entry.kind, entry.actor, entry.balance_after) == ("adjust", staff, -15)
    credit = points_adjust(member=member, points=40, actor=staff, reason="goodwill", key=key())
    assert credit.balance_after == 25
    assert Lot.objects.get(entry=credit).remaining == 25


@pytest.mark.parametrize("status", ["restricted", "frozen", "closed"])
def test_inactive_member_cannot_earn_or_redeem(key, order, status):
    member = MemberFactory()
    points_earn(member=member, points=10, source=order(), key=key())
    Member.objects.filter(pk=member.pk).update(status=status)
    member.refresh_from_db()

    with pytest.raises(MemberInactive):
        points_earn(member=member, points=10, source=order("2"), key=key())
    with pytest.raises(MemberInactive):
        points_redeem(member=member, points=10, source=CHECKOUT, key=key())
    assert _balance(member).available == 10


def test_unverified_member_cannot_redeem(key, order):
    member = MemberFactory(email_verified_at=None)
    points_earn(member=member, points=10, source=order(), key=key())

    with pytest.raises(EmailNotVerified):
        points_redeem(member=member, points=10, source=CHECKOUT, key=key())


def test_history_pages_newest_first(member, key, order):
    for n in range(5):
        points_earn(member=member, points=n + 1, source=order(str(n)), key=key())

    page, after = history_page(member=member, limit=2)
    assert [e.amount for e in page] == [5, 4]
    page, after = history_page(member=member, before_id=after, limit=2)
    assert [e.amount for e in page] == [3, 2]
    page, after = history_page(member=member, before_id=after, limit=2)
    assert [e.amount for e in page] == [1]
    assert after is None


def test_points_expiring_groups_by_last_usable_day(member, key, order):
    now = timezone.now()
    with time_machine.travel(now - dt.timedelta(days=350)):
        points_earn(member=member, points=30, source=order("a"), key=key())
        points_earn(member=member, points=20, source=order("b"), key=key())
    points_earn(member=member, points=99, source=order("c"), key=key())

    expiring = points_expiring(member=member, days=30)

    assert len(expiring) == 1
    assert expiring[0].points == 50
