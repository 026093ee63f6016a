"""Downgrades happen only at night: short of the tier, a member gets 30 days of
grace (and is told what to spend); still short when it ends, they drop one tier."""

import datetime as dt

import pytest
import time_machine
from django.core import mail

from batch.services import program_midnight
from tests.api import post
from tests.factories import MemberFactory, OrderFactory, order_place

from .helpers import BOUGHT, GRACE_END, OUT, changes, days, local, notices, reasons, recalc, state

pytestmark = pytest.mark.django_db


def test_the_last_night_the_order_is_in_the_window_nothing_happens(promoted):
    member = promoted("gold", BOUGHT)

    recalc(OUT - days(1))

    assert (state(member).tier.code, state(member).grace_until) == ("gold", None)
    assert state(member).spend_minor == 500_000


def test_short_of_the_tier_a_member_enters_grace_and_is_told_what_to_spend(
    promoted, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        member = promoted("gold", BOUGHT)
        OrderFactory(member=member, placed_at=local(2025, 6, 1), total_minor=100_000)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        run = recalc(OUT)

    assert run.counts["grace_started"] == 1
    st = state(member)
    assert (st.tier.code, st.grace_until, st.spend_minor) == ("gold", GRACE_END, 100_000)
    assert st.qualified_tier.code == "silver"
    [notice] = notices(member, "grace")
    assert (notice.tier.code, notice.amount_minor, notice.until) == ("gold", 400_000, GRACE_END)
    assert notice.sent_at is not None
    [email] = mail.outbox
    assert email.to == [member.user.email]
    assert email.subject == "Keep your Gold tier"
    assert "¥4,000.00" in email.body
    assert "2026-02-15" in email.body
    assert reasons(member) == ["upgrade"]


def test_the_grace_e_mail_goes_only_after_the_night_commits(
    promoted, django_capture_on_commit_callbacks
):
    member = promoted("gold", BOUGHT)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        recalc(OUT)

    assert mail.outbox == []
    assert notices(member, "grace")[0].sent_at is None
    for callback in callbacks:
        callback()
    assert [m.subject for m in mail.outbox if "Keep" in m.subject] == ["Keep your Gold tier"]


def test_during_grace_nothing_changes(promoted):
    member = promoted("gold", BOUGHT)
    recalc(OUT)
    before = (len(changes(member)), len(notices(member)))

    for night in (OUT + days(1), OUT + days(15), GRACE_END - days(1)):
        recalc(night)
        st = state(member)
        assert (st.tier.code, st.grace_until) == ("gold", GRACE_END), night

    assert (len(changes(member)), len(notices(member))) == before


def test_still_short_when_grace_ends_diamond_drops_one_tier_to_gold_not_to_member(promoted):
    member = promoted("diamond", BOUGHT)
    recalc(OUT)
    assert state(member).grace_until == GRACE_END

    run = recalc(GRACE_END)

    assert run.counts["downgraded"] == 1
    st = state(member)
    assert (st.tier.code, st.grace_until) == ("gold", None)
    assert st.since == program_midnight(GRACE_END) + dt.timedelta(hours=1)
    downgrade = changes(member, "downgrade")
    assert [(c.from_tier.code, c.to_tier.code, c.as_of) for c in downgrade] == [
        ("diamond", "gold", GRACE_END)
    ]
    [notice] = notices(member, "downgrade")
    assert notice.tier.code == "gold"


def test_the_night_after_a_drop_a_new_grace_starts_for_the_new_tier(promoted):
    member = promoted("diamond", BOUGHT)
    recalc(OUT)
    recalc(GRACE_END)

    recalc(GRACE_END + days(1))

    st = state(member)
    assert (st.tier.code, st.grace_until) == ("gold", GRACE_END + days(31))
    grace = notices(member, "grace")
    assert [(n.tier.code, n.amount_minor, n.until) for n in grace] == [
        ("diamond", 2_000_000, GRACE_END),
        ("gold", 500_000, GRACE_END + days(31)),
    ]
    assert reasons(member) == ["upgrade", "downgrade"]


def test_a_member_who_qualifies_for_the_tier_below_drops_there_and_stays(promoted):
    member = promoted("gold", BOUGHT)
    OrderFactory(member=member, placed_at=local(2025, 12, 1), total_minor=100_000)
    recalc(OUT)
    recalc(GRACE_END)

    recalc(GRACE_END + days(1))
    recalc(GRACE_END + days(40))

    st = state(member)
    assert (st.tier.code, st.grace_until) == ("silver", None)
    assert reasons(member) == ["upgrade", "downgrade"]


def test_each_step_down_to_member_writes_one_history_row(promoted):
    member = promoted("diamond", BOUGHT)
    night = OUT
    for _ in range(3):  # grace, then a drop; three times over
        recalc(night)
        recalc(night + days(30))
        night += days(31)
    recalc(night)
    recalc(night + days(30))

    assert state(member).tier.code == "member"
    assert state(member).grace_until is None
    assert [(c.from_tier.code, c.to_tier.code) for c in changes(member, "downgrade")] == [
        ("diamond", "gold"),
        ("gold", "silver"),
        ("silver", "member"),
    ]
    assert len(notices(member, "grace")) == 3


# Refunds


@pytest.mark.parametrize(("amount", "shortfall"), [("0.01", 1), ("1000.00", 100_000)])
def test_a_refund_lowering_spend_puts_the_member_in_grace_the_next_night(
    api_client, tiers, amount, shortfall
):
    member = MemberFactory()
    placed = local(2026, 3, 1)
    with time_machine.travel(placed, tick=False):
        order, _result = order_place(member, 100_000, placed_at=placed)
    assert state(member).tier.code == "silver"

    with time_machine.travel(local(2026, 3, 20), tick=False):
        response = post(
            api_client,
            f"/api/v1/orders/{order.order_id}/refunds",
            {"refund_id": "R-1", "amount": amount},
        )
    assert response.status_code == 201, response.content
    order.refresh_from_db()
    assert order.refunded_minor == shortfall
    assert state(member).tier.code == "silver"

    night = dt.date(2026, 3, 21)
    recalc(night)

    st = state(member)
    assert (st.tier.code, st.grace_until, st.spend_minor) == (
        "silver",
        night + days(30),
        100_000 - shortfall,
    )
    [notice] = notices(member, "grace")
    assert (notice.amount_minor, notice.until) == (shortfall, night + days(30))

    recalc(night + days(30))
    assert state(member).tier.code == "member"
    assert reasons(member) == ["upgrade", "downgrade"]


# Requalifying


def test_an_order_during_grace_clears_it_the_next_night(promoted):
    member = promoted("gold", BOUGHT)
    recalc(OUT)
    OrderFactory(member=member, placed_at=local(2026, 1, 20), total_minor=500_000)

    run = recalc(OUT + days(5))

    assert run.counts["grace_cleared"] == 1
    assert (state(member).tier.code, state(member).grace_until) == ("gold", None)
    recalc(GRACE_END)
    assert state(member).tier.code == "gold"
    assert reasons(member) == ["upgrade"]


def test_an_order_during_grace_that_is_not_enough_changes_nothing(promoted):
    member = promoted("gold", BOUGHT)
    recalc(OUT)
    OrderFactory(member=member, placed_at=local(2026, 1, 20), total_minor=499_999)

    recalc(OUT + days(5))
    assert state(member).grace_until == GRACE_END
    recalc(GRACE_END)

    assert state(member).tier.code == "silver"


@pytest.mark.parametrize(("amount", "cleared"), [(500_000, True), (499_999, False)])
def test_a_reported_order_reaching_the_tier_again_clears_grace_at_once(promoted, amount, cleared):
    member = promoted("gold", BOUGHT)
    recalc(OUT)
    at = local(2026, 1, 20)

    with time_machine.travel(at, tick=False):
        _order, result = order_place(member, amount, placed_at=at)

    assert state(member).grace_until == (None if cleared else GRACE_END)
    assert state(member).tier.code == "gold"
    assert result.rules == ["base", "tier:gold"]
    assert reasons(member) == ["upgrade"]


def test_an_order_during_grace_reaching_a_higher_tier_upgrades_and_ends_grace(promoted):
    member = promoted("silver", BOUGHT)
    recalc(OUT)
    at = local(2026, 1, 20)

    with time_machine.travel(at, tick=False):
        order_place(member, 500_000, placed_at=at)

    assert (state(member).tier.code, state(member).grace_until) == ("gold", None)
    assert reasons(member) == ["upgrade", "upgrade"]


def test_a_member_upgraded_after_midnight_is_not_put_in_grace_by_that_night_s_run(tiers):
    """The night's run (at 01:00) counts orders up to midnight; an order at 00:30
    has already lifted the member at once, and they qualify: no grace, no notice
    telling them to spend more."""
    member = MemberFactory()
    night = dt.date(2026, 6, 10)
    at = program_midnight(night) + dt.timedelta(minutes=30)
    with time_machine.travel(at, tick=False):
        order_place(member, 100_000, placed_at=at)
    assert state(member).tier.code == "silver"

    recalc(night)

    assert (state(member).tier.code, state(member).grace_until) == ("silver", None)
    assert notices(member, "grace") == []
