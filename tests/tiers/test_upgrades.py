"""Upgrades happen at once, in the request that reports the qualifying order, and
that order already earns at the new tier's rate."""

import datetime as dt

import pytest
from django.core import mail

from points.selectors import balance_get
from tests.api import post
from tests.factories import MemberFactory, OrderFactory, order_place

from .helpers import NOW, changes, local, notices, reasons, recalc, state

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


@pytest.fixture
def member():
    return MemberFactory()


def order_body(member, amount, order_id="A-1", **overrides):
    shipping = "10.00"
    total = f"{float(amount) + 10:.2f}"
    body = {
        "order_id": order_id,
        "member": member.number,
        "placed_at": NOW.isoformat(),
        "currency": "CNY",
        "total": total,
        "shipping": shipping,
        "lines": [{"sku": "TEA-1", "category": "tea", "quantity": 1, "amount": amount}],
    }
    body.update(overrides)
    return body


def test_an_order_crossing_silver_upgrades_in_the_same_request_and_earns_at_silver_rate(
    api_client, member, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(api_client, "/api/v1/orders", order_body(member, "1000.00"))

    assert response.status_code == 201, response.content
    assert response.json()["points"] == 1200
    assert response.json()["rules"] == ["base", "tier:silver"]
    assert state(member).tier.code == "silver"
    [change] = changes(member)
    assert (change.reason, change.from_tier.code, change.to_tier.code) == (
        "upgrade",
        "member",
        "silver",
    )
    assert change.as_of == NOW.date()
    [notice] = notices(member)
    assert (notice.kind, notice.tier.code, notice.sent_at is not None) == (
        "upgrade",
        "silver",
        True,
    )
    assert [m.subject for m in mail.outbox] == ["Welcome to Silver"]
    assert mail.outbox[0].to == [member.user.email]
    assert balance_get(member=member).pending == 1200


def test_an_order_one_minor_unit_short_of_silver_changes_nothing(api_client, member):
    response = post(api_client, "/api/v1/orders", order_body(member, "999.99"))

    assert response.json()["points"] == 999
    assert response.json()["rules"] == ["base"]
    assert state(member).tier.code == "member"
    assert changes(member) == []
    assert notices(member) == []


def test_the_order_that_crosses_counts_the_earlier_orders_of_the_window(api_client, member):
    first = post(api_client, "/api/v1/orders", order_body(member, "600.00", order_id="A-1"))
    second = post(api_client, "/api/v1/orders", order_body(member, "400.00", order_id="A-2"))

    assert (first.json()["points"], second.json()["points"]) == (600, 480)
    assert state(member).tier.code == "silver"
    assert reasons(member) == ["upgrade"]


def test_an_order_jumping_several_tiers_lands_on_the_highest_with_one_history_row(
    api_client, member
):
    response = post(api_client, "/api/v1/orders", order_body(member, "20000.00"))

    assert response.json()["points"] == 40_000
    assert response.json()["rules"] == ["base", "tier:diamond"]
    [change] = changes(member)
    assert (change.from_tier.code, change.to_tier.code) == ("member", "diamond")


def test_further_orders_in_the_same_tier_write_no_history(api_client, member):
    post(api_client, "/api/v1/orders", order_body(member, "1000.00", order_id="A-1"))
    again = post(api_client, "/api/v1/orders", order_body(member, "100.00", order_id="A-2"))

    assert again.json()["points"] == 120
    assert reasons(member) == ["upgrade"]
    assert len(notices(member)) == 1


def test_the_same_order_reported_twice_upgrades_once(api_client, member):
    body = order_body(member, "1000.00")
    statuses = [post(api_client, "/api/v1/orders", body).status_code for _ in range(2)]

    assert statuses == [201, 200]
    assert reasons(member) == ["upgrade"]


@pytest.mark.parametrize(
    ("placed", "counted"),
    [(local(2025, 6, 10, 23, 59), False), (local(2025, 6, 11, 0, 1), True)],
    ids=["23:59-before-the-window", "00:01-first-day-of-the-window"],
)
def test_at_order_time_the_window_is_the_365_days_ending_today(member, placed, counted):
    OrderFactory(member=member, placed_at=placed, total_minor=60_000)

    _order, result = order_place(member, 40_000)

    assert state(member).tier.code == ("silver" if counted else "member")
    assert result.points == (480 if counted else 400)


def test_a_refund_does_not_downgrade_at_once(api_client, member):
    post(api_client, "/api/v1/orders", order_body(member, "1000.00"))

    refund = post(
        api_client, "/api/v1/orders/A-1/refunds", {"refund_id": "R-1", "amount": "1000.00"}
    )

    assert refund.status_code == 201, refund.content
    assert refund.json()["points_reversed"] == 1200
    assert state(member).tier.code == "silver"
    assert reasons(member) == ["upgrade"]


def test_an_upgrade_at_order_time_is_not_repeated_by_the_night(member):
    order_place(member, 100_000)

    recalc(NOW.date() + dt.timedelta(days=1))

    assert state(member).tier.code == "silver"
    assert reasons(member) == ["upgrade"]
    assert len(notices(member, "upgrade")) == 1
