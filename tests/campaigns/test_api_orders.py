import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from campaigns.models import Event, OrderPoints
from members.models import Member
from points.models import Entry, Redemption
from points.selectors import balance_get
from points.services import Source, points_earn
from shop.models import Order, OrderLine, Refund
from tests.api import assert_error, post
from tests.factories import MemberFactory, ledger_is_clean

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _audit():
    yield
    assert ledger_is_clean()


@pytest.fixture
def member():
    return MemberFactory()


def order_body(member=None, order_id="1001", **overrides):
    body = {
        "order_id": order_id,
        "placed_at": timezone.now().isoformat(),
        "currency": "CNY",
        "total": "329.90",
        "shipping": "10.00",
        "lines": [
            {"sku": "TEA-1", "category": "tea", "quantity": 2, "amount": "199.90"},
            {"sku": "CUP-1", "category": "cups", "quantity": 1, "amount": "120.00"},
        ],
    }
    if member is not None:
        body["member"] = member.number
    body.update(overrides)
    return body


# Orders


def test_an_order_earns_pending_points_on_its_net_amount(api_client, member):
    response = post(api_client, "/api/v1/orders", order_body(member))

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["order_id"] == "1001"
    assert body["member"] == member.number
    assert body["points"] == 319  # 199.90 + 120.00, no shipping, rounded down
    assert body["rules"] == ["base"]
    assert dt.date.fromisoformat(body["pending_until"]) >= timezone.localdate() + dt.timedelta(
        days=13
    )
    assert balance_get(member=member).pending == 319
    order = Order.objects.get()
    assert (order.total_minor, order.shipping_minor, order.lines.count()) == (31990, 1000, 2)
    assert order.api_key is not None


def test_an_old_order_earns_available_points(api_client, member):
    placed = (timezone.now() - dt.timedelta(days=30)).isoformat()
    body = post(api_client, "/api/v1/orders", order_body(member, placed_at=placed)).json()

    assert body["pending_until"] is None
    assert balance_get(member=member).available == 319


def test_an_order_without_lines_earns_on_total_less_shipping(api_client, member):
    body = order_body(member, lines=[], total="100.99", shipping="20.00")

    assert post(api_client, "/api/v1/orders", body).json()["points"] == 80


def test_an_order_may_enrol_its_customer(api_client):
    body = order_body(customer={"external_id": "cust-9", "email": "Nine@Example.com"})

    response = post(api_client, "/api/v1/orders", body)

    assert response.status_code == 201
    member = Member.objects.get(external_id="cust-9")
    assert response.json()["member"] == member.number
    assert member.user.email == "nine@example.com"


def test_the_same_order_again_returns_the_first_answer_and_earns_once(api_client, member):
    body = order_body(member)
    first = post(api_client, "/api/v1/orders", body)
    second = post(api_client, "/api/v1/orders", body)

    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json() == second.json()
    assert Entry.objects.count() == 1


def test_the_same_order_id_with_another_body_is_a_conflict(api_client, member):
    post(api_client, "/api/v1/orders", order_body(member))
    other_lines = [{"sku": "POT-9", "category": "pots", "quantity": 1, "amount": "900.00"}]

    error = assert_error(
        post(
            api_client,
            "/api/v1/orders",
            order_body(member, total="999.00", lines=other_lines),
        ),
        409,
        "conflict",
    )
    assert "1001" in error["message"]
    order = Order.objects.get()
    assert order.total_minor == 31990
    assert list(order.lines.order_by("pk").values_list("sku", "quantity", "amount_minor")) == [
        ("TEA-1", 2, 19990),
        ("CUP-1", 1, 12000),
    ]
    assert balance_get(member=member).pending == 319


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"total": "-1.00"}, "invalid", "total"),
        ({"total": 12.5}, "invalid", "total"),
        ({"total": "1.005"}, "invalid", "total"),
        ({"total": "99999999999999.00"}, "invalid", "total"),
        ({"currency": "XYZ"}, "unsupported_currency", "currency"),
        ({"currency": "USD"}, "unsupported_currency", "currency"),
        ({"currency": "cny"}, "invalid", "currency"),
        ({"placed_at": "2999-01-01T00:00:00Z"}, "invalid", "placed_at"),
        ({"placed_at": "yesterday"}, "invalid", "placed_at"),
        ({"total": "10.00"}, "invalid", "total"),
        ({"lines": [{"amount": "1.00", "quantity": 0}]}, "invalid", "lines.0.quantity"),
        ({"order_id": ""}, "invalid", "order_id"),
        ({"surprise": 1}, "invalid", "surprise"),
    ],
)
def test_bad_orders_are_refused_and_change_nothing(api_client, member, overrides, code, field):
    error = assert_error(
        post(api_client, "/api/v1/orders", order_body(member, **overrides)), 422, code
    )

    assert field in error["fields"], error
    assert not Order.objects.exists()
    assert not Entry.objects.exists()


def test_malformed_json_is_refused(api_client):
    assert_error(post(api_client, "/api/v1/orders", "{not json"), 400, "invalid")


def test_an_order_for_an_unknown_member_is_404(api_client):
    body = order_body(member=None, order_id="x")
    body["member"] = "M00000000"

    assert_error(post(api_client, "/api/v1/orders", body), 404, "not_found")
    assert not Order.objects.exists()
    assert not OrderLine.objects.exists()


def test_an_order_naming_no_member_is_refused(api_client):
    assert_error(post(api_client, "/api/v1/orders", order_body()), 422, "invalid")


@pytest.mark.parametrize("status", ["frozen", "closed"])
def test_an_order_for_a_frozen_member_is_refused(api_client, status):
    member = MemberFactory(status=status)

    assert_error(post(api_client, "/api/v1/orders", order_body(member)), 403, "member_inactive")
    assert not Order.objects.exists()
    assert not OrderLine.objects.exists()


def test_a_restricted_member_s_order_is_recorded_and_earns_nothing(api_client):
    member = MemberFactory(status="restricted")

    body = post(api_client, "/api/v1/orders", order_body(member)).json()

    assert body["points"] == 0
    assert Order.objects.count() == 1
    assert not Entry.objects.exists()


# Refunds


def _refund(client, refund_id, amount, order_id="1001"):
    return post(
        client, f"/api/v1/orders/{order_id}/refunds", {"refund_id": refund_id, "amount": amount}
    )


def test_partial_refunds_adding_up_to_the_total_reverse_exactly_what_was_earned(api_client, member):
    post(api_client, "/api/v1/orders", order_body(member, lines=[], total="100.00", shipping="0"))
    assert OrderPoints.objects.get().points == 100

    reversed_points = [
        _refund(api_client, f"r{n}", amount).json()["points_reversed"]
        for n, amount in enumerate(["33.33", "33.33", "33.34"])
    ]

    assert sum(reversed_points) == 100
    assert balance_get(member=member).pending == 0
    assert_error(_refund(api_client, "r-extra", "0.01"), 422, "refund_exceeds_order")
    assert Refund.objects.count() == 3


def test_one_cent_more_than_the_order_is_refused(api_client, member):
    post(api_client, "/api/v1/orders", order_body(member))

    error = assert_error(_refund(api_client, "r1", "319.91"), 422, "refund_exceeds_order")

    assert "amount" in error["fields"]
    assert not Refund.objects.exists()
    assert balance_get(member=member).pending == 319


def test_a_refund_after_spending_leaves_a_debt(api_client, member):
    placed = (timezone.now() - dt.timedelta(days=20)).isoformat()
    post(api_client, "/api/v1/orders", order_body(member, placed_at=placed))
    post(
        api_client,
        "/api/v1/redemptions",
        {"member": member.number, "points": 300, "idempotency_key": "spend"},
    )

    body = _refund(api_client, "r1", "319.90").json()

    assert body == {"refund_id": "r1", "order_id": "1001", "points_reversed": 319}
    lookup = api_client.get(f"/api/v1/members/{member.number}").json()
    assert lookup["points"]["available"] == -300


def test_a_refund_after_the_points_expired_takes_back_only_what_was_spent(api_client, member):
    now = timezone.now()
    with time_machine.travel(now - dt.timedelta(days=400)):
        placed = (timezone.now() - dt.timedelta(days=20)).isoformat()
        post(api_client, "/api/v1/orders", order_body(member, placed_at=placed))
        spend = {"member": member.number, "points": 300, "idempotency_key": "spend"}
        assert post(api_client, "/api/v1/redemptions", spend).status_code == 201

    body = _refund(api_client, "r1", "319.90").json()  # the 19 points left have expired

    assert body == {"refund_id": "r1", "order_id": "1001", "points_reversed": 300}
    assert _refund(api_client, "r1", "319.90").json() == body
    lookup = api_client.get(f"/api/v1/members/{member.number}").json()
    assert lookup["points"]["available"] == -300


def test_the_same_refund_again_is_answered_once(api_client, member):
    post(api_client, "/api/v1/orders", order_body(member))
    first = _refund(api_client, "r1", "100.00")
    second = _refund(api_client, "r1", "100.00")

    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json() == second.json()
    assert_error(_refund(api_client, "r1", "100.01"), 409, "conflict")
    assert Refund.objects.count() == 1


def test_a_refund_of_an_unknown_order_is_404(api_client):
    assert_error(_refund(api_client, "r1", "1.00", order_id="nope"), 404, "not_found")


# Redemptions


def _fund(member, points=5000):
    points_earn(member=member, points=points, source=Source("order", "seed"), key="seed")


def test_points_become_a_discount(api_client, member):
    _fund(member)

    response = post(
        api_client,
        "/api/v1/redemptions",
        {"member": member.number, "points": 1500, "idempotency_key": "k1", "order_total": "100.00"},
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["points"] == 1500
    assert body["status"] == "active"
    assert body["discount"] == {"amount": "15.00", "currency": "CNY"}
    assert balance_get(member=member).available == 3500


def test_the_same_redemption_key_spends_once(api_client, member):
    _fund(member)
    body = {"member": member.number, "points": 1000, "idempotency_key": "k1"}

    first, second = (post(api_client, "/api/v1/redemptions", body) for _ in range(2))

    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert balance_get(member=member).available == 4000
    body["points"] = 2000
    assert_error(post(api_client, "/api/v1/redemptions", body), 409, "conflict")


@pytest.mark.parametrize(
    ("points", "order_total", "code"),
    [
        (150, None, "invalid"),  # not a whole step of 100
        (6000, None, "insufficient_points"),
        (3000, "50.00", "redemption_limit"),  # 30.00 off a 50.00 order: over 50%
        (0, None, "invalid"),
        (-100, None, "invalid"),
    ],
)
def test_bad_redemptions_are_refused(api_client, member, points, order_total, code):
    _fund(member)
    body = {"member": member.number, "points": points, "idempotency_key": "k"}
    if order_total:
        body["order_total"] = order_total

    status = 409 if code == "insufficient_points" else 422
    assert_error(post(api_client, "/api/v1/redemptions", body), status, code)
    assert not Redemption.objects.exists()
    assert balance_get(member=member).available == 5000


def test_an_unverified_member_cannot_redeem(api_client):
    member = MemberFactory(email_verified_at=None)
    _fund(member)

    response = post(
        api_client,
        "/api/v1/redemptions",
        {"member": member.number, "points": 100, "idempotency_key": "k"},
    )

    assert_error(response, 403, "email_unverified")


def test_cancel_gives_the_points_back_once(api_client, member):
    _fund(member)
    created = post(
        api_client,
        "/api/v1/redemptions",
        {"member": member.number, "points": 1000, "idempotency_key": "k1"},
    ).json()

    first = post(api_client, f"/api/v1/redemptions/{created['id']}/cancel", {})
    second = post(api_client, f"/api/v1/redemptions/{created['id']}/cancel", {})

    assert first.json()["status"] == second.json()["status"] == "cancelled"
    assert balance_get(member=member).available == 5000
    assert Entry.objects.filter(kind="cancel").count() == 1


def test_cancel_of_an_unknown_redemption_is_404(api_client):
    url = "/api/v1/redemptions/00000000-0000-0000-0000-000000000000/cancel"
    assert_error(post(api_client, url, {}), 404, "not_found")
    assert_error(post(api_client, "/api/v1/redemptions/not-a-uuid/cancel", {}), 422, "invalid")


# Events


def _event(client, member, event_id, type="review", occurred_at=None):
    return post(
        client,
        "/api/v1/events",
        {
            "event_id": event_id,
            "member": member.number,
            "type": type,
            "occurred_at": (occurred_at or timezone.now()).isoformat(),
        },
    )


def test_a_review_earns_its_points_once_a_day(api_client, member):
    first = _event(api_client, member, "e1")
    capped = _event(api_client, member, "e2")

    assert first.status_code == 201
    assert first.json() == {"event_id": "e1", "points": 50, "reason": ""}
    assert capped.json() == {"event_id": "e2", "points": 0, "reason": "daily_cap"}
    assert balance_get(member=member).available == 50
    assert Event.objects.count() == 2


def test_the_same_event_again_earns_once_and_another_body_conflicts(api_client, member):
    when = timezone.now()
    assert _event(api_client, member, "e1", occurred_at=when).status_code == 201
    assert _event(api_client, member, "e1", occurred_at=when).status_code == 200
    assert_error(_event(api_client, member, "e1", type="share", occurred_at=when), 409, "conflict")
    assert balance_get(member=member).available == 50


def test_the_daily_cap_counts_by_the_day_received_not_the_day_claimed(api_client, member):
    now = timezone.now()
    answers = [
        _event(api_client, member, f"e{n}", occurred_at=now - dt.timedelta(days=n)).json()
        for n in range(5)
    ]

    assert [answer["points"] for answer in answers] == [50, 0, 0, 0, 0]
    assert {answer["reason"] for answer in answers[1:]} == {"daily_cap"}
    assert balance_get(member=member).available == 50
    with time_machine.travel(now + dt.timedelta(days=1)):
        assert _event(api_client, member, "e-next", occurred_at=now).json()["points"] == 50


def test_an_event_older_than_the_maximum_age_is_refused(api_client, member, settings):
    settings.EVENT_MAX_AGE_DAYS = 7
    now = timezone.now()
    old = now - dt.timedelta(days=7, minutes=1)

    error = assert_error(_event(api_client, member, "e1", occurred_at=old), 422, "event_too_old")

    assert "occurred_at" in error["fields"]
    assert not Event.objects.exists()
    assert not Entry.objects.exists()
    assert (
        _event(api_client, member, "e2", occurred_at=now - dt.timedelta(days=6)).status_code == 201
    )


def test_a_retry_of_an_event_accepted_before_it_aged_gets_the_first_answer(api_client, member):
    when = timezone.now() - dt.timedelta(days=6)
    first = _event(api_client, member, "e1", occurred_at=when)

    with time_machine.travel(timezone.now() + dt.timedelta(days=3)):
        again = _event(api_client, member, "e1", occurred_at=when)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()


def test_an_unknown_event_type_is_refused(api_client, member):
    error = assert_error(_event(api_client, member, "e1", type="dance"), 422, "invalid")
    assert "type" in error["fields"]
    assert not Event.objects.exists()


# Member lookup and ledger


def test_member_lookup_shows_points_available_pending_and_expiring(api_client, member):
    _fund(member, 700)
    post(api_client, "/api/v1/orders", order_body(member))

    body = api_client.get(f"/api/v1/members/{member.number}").json()

    assert body["number"] == member.number
    assert body["status"] == "active"
    assert body["points"] == {"available": 700, "pending": 319, "expiring": []}


def test_transactions_are_paginated_by_cursor(api_client, member):
    for n in range(5):
        points_earn(member=member, points=n + 1, source=Source("order", str(n)), key=str(n))

    page = api_client.get(f"/api/v1/members/{member.number}/transactions?limit=2").json()
    assert [r["points"] for r in page["results"]] == [5, 4]
    assert set(page["results"][0]) >= {"kind", "points", "balance_after", "created_at", "source"}

    rest = api_client.get(
        f"/api/v1/members/{member.number}/transactions?limit=10&cursor={page['next']}"
    ).json()
    assert [r["points"] for r in rest["results"]] == [3, 2, 1]
    assert rest["next"] is None
    assert_error(
        api_client.get(f"/api/v1/members/{member.number}/transactions?cursor=x"), 400, "invalid"
    )
