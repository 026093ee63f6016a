"""Paid plans: bought and extended by orders with the plan's SKU, taken back by
refunds, reminded of 7 days before the end and ended by the nightly job."""

import datetime as dt

import pytest
import time_machine
from django.core import mail

from tests.api import post
from tests.factories import MemberFactory, order_place
from tiers.models import PlanPurchase, Subscription

from .helpers import SKU, changes, days, local, night, notices, reasons

pytestmark = pytest.mark.django_db

BOUGHT = local(2026, 1, 15, 12, 0)
ENDS = BOUGHT + dt.timedelta(days=365)  # 2027-01-15 12:00, Shanghai


@pytest.fixture
def member(db):
    return MemberFactory()


def buy(member, at, *, quantity=1, with_tea=False, order_id=None):
    lines = [(SKU, quantity, 19_900 * quantity)]
    if with_tea:
        lines.append(("TEA-1", 1, 10_000))
    total = sum(amount for _sku, _q, amount in lines)
    with time_machine.travel(at, tick=False):
        return order_place(member, total, placed_at=at, lines=lines, order_id=order_id)


def shop(member, at, total_minor=10_000):
    with time_machine.travel(at, tick=False):
        return order_place(member, total_minor, placed_at=at)[1]


def refund(api_client, order, at, refund_id, amount, lines=None):
    body = {"refund_id": refund_id, "amount": amount}
    if lines is not None:
        body["lines"] = lines
    with time_machine.travel(at, tick=False):
        response = post(api_client, f"/api/v1/orders/{order.order_id}/refunds", body)
    assert response.status_code == 201, response.content
    return response.json()


def subscription(member):
    return Subscription.objects.get(member=member)


# Bought


def test_an_order_with_the_plan_s_sku_starts_it_and_already_earns_the_extra(member, plan):
    order, result = buy(member, BOUGHT)

    sub = subscription(member)
    assert (sub.plan, sub.status, sub.starts_at, sub.ends_at) == (plan, "active", BOUGHT, ENDS)
    assert result.points == 298  # 199 x (1.0 + 0.5), rounded down
    assert result.rules == ["base", "plan:plus"]
    [purchase] = PlanPurchase.objects.all()
    assert (purchase.subscription, purchase.order, purchase.days) == (sub, order, 365)
    [change] = changes(member)
    assert (change.reason, change.plan, change.to_tier.code) == ("plan_started", plan, "member")


def test_the_plan_s_extra_adds_to_the_tier_s_multiplier(member, plan):
    shop(member, BOUGHT - days(1), total_minor=100_000)

    _order, result = buy(member, BOUGHT)

    assert result.rules == ["base", "tier:silver", "plan:plus"]
    assert result.points == 338  # 199 x 1.7


def test_an_order_without_the_plan_s_sku_buys_nothing(member, plan):
    result = shop(member, BOUGHT)

    assert not Subscription.objects.exists()
    assert result.rules == ["base"]


def test_an_order_during_the_plan_earns_the_extra(member, plan):
    buy(member, BOUGHT)

    result = shop(member, BOUGHT + days(100))

    assert (result.points, result.rules) == (150, ["base", "plan:plus"])


# Extended


def test_a_second_plan_order_extends_the_same_subscription_by_a_year(member, plan):
    buy(member, BOUGHT)

    buy(member, BOUGHT + days(200))

    sub = subscription(member)
    assert (sub.starts_at, sub.ends_at, sub.status) == (BOUGHT, ENDS + days(365), "active")
    assert PlanPurchase.objects.filter(subscription=sub).count() == 2
    assert reasons(member) == ["plan_started", "plan_extended"]


def test_two_plans_in_one_line_buy_two_years(member, plan):
    buy(member, BOUGHT, quantity=2)

    assert subscription(member).ends_at == BOUGHT + days(730)


# Refunded


def test_refunding_the_plan_line_takes_its_days_back_and_cancels_a_plan_left_with_none(
    api_client, member, plan
):
    order, _result = buy(member, BOUGHT, with_tea=True)

    body = refund(
        api_client,
        order,
        BOUGHT + days(3),
        "R-1",
        "199.00",
        lines=[{"sku": SKU, "quantity": 1, "amount": "199.00"}],
    )

    assert body["points_reversed"] == 298  # 298 + 150 earned; 199 of 299 refunded
    sub = subscription(member)
    assert (sub.status, sub.ends_at) == ("cancelled", BOUGHT)
    assert sub.ended_at == BOUGHT + days(3)
    assert PlanPurchase.objects.get().refunded_at is not None
    assert reasons(member) == ["plan_started", "plan_ended"]
    assert shop(member, BOUGHT + days(4)).rules == ["base"]


def test_a_full_refund_of_the_order_takes_the_plan_back(api_client, member, plan):
    order, _result = buy(member, BOUGHT)

    refund(api_client, order, BOUGHT + days(3), "R-1", "199.00")

    assert subscription(member).status == "cancelled"


def test_refunding_other_lines_leaves_the_plan(api_client, member, plan):
    order, _result = buy(member, BOUGHT, with_tea=True)

    refund(
        api_client,
        order,
        BOUGHT + days(3),
        "R-1",
        "100.00",
        lines=[{"sku": "TEA-1", "quantity": 1, "amount": "100.00"}],
    )

    sub = subscription(member)
    assert (sub.status, sub.ends_at) == ("active", ENDS)
    assert reasons(member) == ["plan_started"]


def test_refunding_the_extension_takes_back_only_its_year(api_client, member, plan):
    buy(member, BOUGHT)
    extension, _result = buy(member, BOUGHT + days(200))

    refund(api_client, extension, BOUGHT + days(210), "R-1", "199.00")

    sub = subscription(member)
    assert (sub.status, sub.ends_at) == ("active", ENDS)
    assert reasons(member) == ["plan_started", "plan_extended"]


# Reminded and expired (the nightly paid_plans job)


def test_the_reminder_goes_once_when_the_end_is_within_7_days(
    member, plan, django_capture_on_commit_callbacks
):
    buy(member, BOUGHT)

    # The sends after each night's commit run at 09:00 on the last night's day.
    with (
        time_machine.travel(local(2027, 1, 10, 9), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        night("paid_plans", dt.date(2027, 1, 8))
        assert notices(member, "plan_reminder") == []
        night("paid_plans", dt.date(2027, 1, 9))
        night("paid_plans", dt.date(2027, 1, 10))

    [reminder] = notices(member, "plan_reminder")
    assert (reminder.as_of, reminder.until, reminder.plan) == (
        dt.date(2027, 1, 9),
        dt.date(2027, 1, 15),
        plan,
    )
    assert [m.subject for m in mail.outbox] == ["Your Plus plan ends soon"]
    assert "2027-01-15" in mail.outbox[0].body
    assert subscription(member).status == "active"


def test_an_extension_after_the_reminder_earns_a_reminder_of_the_new_end(member, plan):
    buy(member, BOUGHT)
    night("paid_plans", dt.date(2027, 1, 9))
    buy(member, local(2027, 1, 10))

    night("paid_plans", dt.date(2027, 1, 11))
    night("paid_plans", dt.date(2028, 1, 9))
    night("paid_plans", dt.date(2028, 1, 10))

    reminders = notices(member, "plan_reminder")
    assert [(n.as_of, n.until) for n in reminders] == [
        (dt.date(2027, 1, 9), dt.date(2027, 1, 15)),
        (dt.date(2028, 1, 9), dt.date(2028, 1, 15)),
    ]


def test_the_night_after_its_last_day_the_plan_ends_and_orders_earn_without_the_extra(
    member, plan, django_capture_on_commit_callbacks
):
    buy(member, BOUGHT)
    night("paid_plans", dt.date(2027, 1, 15))
    assert subscription(member).status == "active"

    with (
        time_machine.travel(local(2027, 1, 16, 9), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        run = night("paid_plans", dt.date(2027, 1, 16))
        night("paid_plans", dt.date(2027, 1, 16))

    assert run.counts["ended"] == 1
    sub = subscription(member)
    assert sub.status == "ended"
    assert sub.ended_at is not None
    assert reasons(member) == ["plan_started", "plan_ended"]
    [ended] = notices(member, "plan_ended")
    assert ended.plan == plan
    assert "Your Plus plan has ended" in [m.subject for m in mail.outbox]
    assert shop(member, local(2027, 1, 16, 9)).rules == ["base"]


def test_after_the_last_moment_an_order_earns_without_the_extra_even_before_the_night(member, plan):
    buy(member, BOUGHT)

    assert shop(member, ENDS - dt.timedelta(minutes=1)).rules == ["base", "plan:plus"]
    assert shop(member, ENDS + dt.timedelta(minutes=1)).rules == ["base"]


def test_a_plan_that_ran_out_today_can_be_bought_again_before_the_night_ends_it(member, plan):
    buy(member, BOUGHT)

    order, result = buy(member, ENDS + dt.timedelta(hours=3))

    assert result.rules == ["base", "plan:plus"]
    running = Subscription.objects.get(member=member, status="active")
    assert running.ends_at == ENDS + dt.timedelta(hours=3) + days(365)
    assert PlanPurchase.objects.filter(order=order, subscription=running).exists()


def test_a_new_plan_can_be_bought_after_the_old_one_ended(member, plan):
    buy(member, BOUGHT)
    night("paid_plans", dt.date(2027, 1, 16))

    _order, result = buy(member, local(2027, 2, 1))

    assert result.rules == ["base", "plan:plus"]
    assert Subscription.objects.filter(member=member).count() == 2
    assert Subscription.objects.get(member=member, status="active").ends_at == local(
        2027, 2, 1
    ) + days(365)
