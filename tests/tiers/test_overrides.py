"""A staff override puts a member in a tier and holds it as a floor until its
last day; after that the normal rules resume: grace, then one tier down."""

import datetime as dt

import pytest
import time_machine

from tests.factories import MemberFactory, UserFactory, order_place
from tiers.services import TierError, tier_override

from .helpers import BOUGHT, GRACE_END, OUT, changes, days, local, notices, reasons, recalc, state

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return UserFactory(is_staff=True)


def override(member, tier, until, staff, on, reason="VIP by the store manager"):
    with time_machine.travel(local(on.year, on.month, on.day, 10), tick=False):
        return tier_override(member=member, tier=tier, until=until, reason=reason, actor=staff)


def test_an_override_outlives_the_downgrade_then_grace_and_one_step_drop_resume(
    promoted, tiers, staff
):
    member = promoted("gold", BOUGHT)
    recalc(OUT)
    assert state(member).grace_until == GRACE_END
    until = GRACE_END + days(30)

    override(member, tiers["gold"], until, staff, on=OUT + days(10))

    assert (state(member).tier.code, state(member).grace_until) == ("gold", None)
    for night in (OUT + days(11), GRACE_END, GRACE_END + days(15), until):
        recalc(night)
        st = state(member)
        assert (st.tier.code, st.grace_until, st.override_until) == ("gold", None, until), night
    assert reasons(member) == ["upgrade", "override"]
    assert len(notices(member, "grace")) == 1

    recalc(until + days(1))  # the override has run out: grace
    st = state(member)
    assert (st.tier.code, st.grace_until) == ("gold", until + days(31))
    assert (st.override_tier, st.override_until, st.override_reason) == (None, None, "")
    assert len(notices(member, "grace")) == 2

    recalc(until + days(31))  # still short: one tier down, not two
    assert state(member).tier.code == "silver"
    assert reasons(member) == ["upgrade", "override", "downgrade"]
    [drop] = changes(member, "downgrade")
    assert (drop.from_tier.code, drop.to_tier.code) == ("gold", "silver")


def test_an_override_lifts_a_member_records_who_and_why_and_sets_the_rate(tiers, staff):
    member = MemberFactory()
    today = dt.date(2026, 3, 1)

    override(member, tiers["gold"], today + days(90), staff, on=today, reason="  VIP  ")

    [change] = changes(member)
    assert (change.reason, change.from_tier.code, change.to_tier.code) == (
        "override",
        "member",
        "gold",
    )
    assert change.actor == staff
    assert change.as_of == today
    assert change.note == "until 2026-05-30: VIP"
    at = local(2026, 3, 2)
    with time_machine.travel(at, tick=False):
        _order, result = order_place(member, 10_000, placed_at=at)
    assert (result.points, result.rules) == (150, ["base", "tier:gold"])


def test_an_override_holds_a_member_with_no_spend_until_its_last_day(tiers, staff):
    member = MemberFactory()
    today = dt.date(2026, 3, 1)
    until = today + days(40)
    override(member, tiers["diamond"], until, staff, on=today)

    recalc(today + days(1))
    recalc(until)
    assert (state(member).tier.code, state(member).grace_until) == ("diamond", None)

    recalc(until + days(1))
    assert (state(member).tier.code, state(member).grace_until) == ("diamond", until + days(31))
    recalc(until + days(31))
    assert state(member).tier.code == "gold"


def test_spend_can_still_lift_a_member_above_their_override(tiers, staff):
    member = MemberFactory()
    today = dt.date(2026, 3, 1)
    override(member, tiers["silver"], today + days(90), staff, on=today)
    at = local(2026, 3, 2)

    with time_machine.travel(at, tick=False):
        order_place(member, 500_000, placed_at=at)

    assert state(member).tier.code == "gold"
    assert reasons(member) == ["override", "upgrade"]


@pytest.mark.parametrize(
    ("reason", "until_days"), [("   ", 10), ("VIP", -1)], ids=["no-reason", "until-in-the-past"]
)
def test_an_override_without_a_reason_or_ending_in_the_past_is_refused(
    tiers, staff, reason, until_days
):
    member = MemberFactory()
    today = dt.date(2026, 3, 1)

    with pytest.raises(TierError):
        override(member, tiers["gold"], today + days(until_days), staff, on=today, reason=reason)

    assert changes(member) == []
