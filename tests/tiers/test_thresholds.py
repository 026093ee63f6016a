"""Which spend qualifies for which tier, and which orders the nightly window
counts (recalc_tiers for the night D: orders placed from midnight of D-365 to
midnight of D, programme time)."""

import datetime as dt
from decimal import Decimal

import pytest

from tests.factories import MemberFactory, OrderFactory
from tiers.selectors import qualifying_window

from .helpers import changes, local, notices, recalc, state

pytestmark = pytest.mark.django_db

NIGHT = dt.date(2026, 6, 10)


def test_the_default_tiers_are_member_silver_gold_diamond(tiers):
    rows = [(t.code, t.rank, t.threshold_minor, t.multiplier) for t in tiers.values()]

    assert sorted(rows, key=lambda row: row[1]) == [
        ("member", 0, 0, Decimal("1.00")),
        ("silver", 1, 100_000, Decimal("1.20")),
        ("gold", 2, 500_000, Decimal("1.50")),
        ("diamond", 3, 2_000_000, Decimal("2.00")),
    ]


def test_the_night_s_window_is_the_365_programme_days_before_it():
    start, end = qualifying_window(last_day=NIGHT - dt.timedelta(days=1))

    assert start == local(2025, 6, 10, 0, 0)
    assert end == local(2026, 6, 10, 0, 0)


@pytest.mark.parametrize(
    ("spend", "code"),
    [
        (99_999, "member"),
        (100_000, "silver"),
        (499_999, "silver"),
        (500_000, "gold"),
        (1_999_999, "gold"),
        (2_000_000, "diamond"),
    ],
)
def test_exactly_at_a_threshold_qualifies_and_one_minor_unit_below_does_not(tiers, spend, code):
    member = MemberFactory()
    OrderFactory(member=member, placed_at=local(2026, 3, 1), total_minor=spend)

    recalc(NIGHT)

    assert state(member).tier.code == code
    assert state(member).spend_minor == spend
    if code == "member":
        assert changes(member) == []
    else:
        [change] = changes(member)
        assert (change.reason, change.from_tier.code, change.to_tier.code) == (
            "upgrade",
            "member",
            code,
        )
        assert change.as_of == NIGHT
        [notice] = notices(member, "upgrade")
        assert notice.tier.code == code


def test_spend_adds_up_the_window_s_orders_net_of_refunds():
    at_threshold, one_short = MemberFactory(), MemberFactory()
    for member, refunded in ((at_threshold, 0), (one_short, 1)):
        OrderFactory(member=member, placed_at=local(2025, 12, 1), total_minor=60_000)
        OrderFactory(
            member=member,
            placed_at=local(2026, 5, 1),
            total_minor=40_000,
            refunded_minor=refunded,
        )

    recalc(NIGHT)

    assert (state(at_threshold).spend_minor, state(at_threshold).tier.code) == (100_000, "silver")
    assert (state(one_short).spend_minor, state(one_short).tier.code) == (99_999, "member")


@pytest.mark.parametrize(
    ("placed", "counted"),
    [
        (local(2025, 6, 9, 23, 59), False),
        (local(2025, 6, 10, 0, 1), True),
        (local(2026, 6, 9, 23, 59), True),
        (local(2026, 6, 10, 0, 1), False),
    ],
    ids=["23:59-before-the-start", "00:01-at-the-start", "23:59-last-day", "00:01-the-night-s-day"],
)
def test_an_order_on_the_window_s_edge_counts_only_inside_it(placed, counted):
    member = MemberFactory()
    OrderFactory(member=member, placed_at=placed, total_minor=100_000)

    recalc(NIGHT)

    assert state(member).spend_minor == (100_000 if counted else 0)
    assert state(member).tier.code == ("silver" if counted else "member")


def test_of_two_orders_either_side_of_the_window_s_start_only_the_later_counts():
    member = MemberFactory()
    OrderFactory(member=member, placed_at=local(2025, 6, 9, 23, 59), total_minor=100_000)
    OrderFactory(member=member, placed_at=local(2025, 6, 10, 0, 1), total_minor=99_999)

    recalc(NIGHT)

    assert state(member).spend_minor == 99_999
    assert state(member).tier.code == "member"


def test_a_tier_may_also_need_orders_and_a_wholly_refunded_order_is_not_one(tiers):
    tiers["silver"].min_orders = 2
    tiers["silver"].save()
    refunded_whole, refunded_in_part = MemberFactory(), MemberFactory()
    for member, refunded in ((refunded_whole, 5_000), (refunded_in_part, 4_999)):
        OrderFactory(member=member, placed_at=local(2026, 5, 1), total_minor=100_000)
        OrderFactory(
            member=member, placed_at=local(2026, 5, 2), total_minor=5_000, refunded_minor=refunded
        )

    recalc(NIGHT)

    assert (state(refunded_whole).orders_count, state(refunded_whole).tier.code) == (1, "member")
    assert (state(refunded_in_part).orders_count, state(refunded_in_part).tier.code) == (
        2,
        "silver",
    )
