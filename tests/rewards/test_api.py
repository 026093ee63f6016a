"""The coupon and reward endpoints of the shop API: SPEC.md's fields, and every
error code from its cause, refused with nothing changed."""

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from batch.services import program_midnight
from members.models import Member
from points.models import Redemption
from points.selectors import balance_get
from rewards.models import Coupon, CouponUse, Reward, RewardRedemption
from rewards.services.coupons import CouponSpec, coupon_create, coupon_void
from tests.api import assert_error, post
from tests.factories import MemberFactory
from tiers.models import Tier

from .conftest import make_reward, member_with_points

pytestmark = pytest.mark.django_db


def coupon(**spec):
    owner = spec.pop("owner", None)
    spec.setdefault("kind", "amount")
    if spec["kind"] == "amount":
        spec.setdefault("amount_minor", 1000)
    return coupon_create(spec=CouponSpec(**spec), source="staff", owner=owner)


def redeem_body(order_id="1001", total="100.00", key=None, **extra):
    return {"order_id": order_id, "total": total, "idempotency_key": key or order_id, **extra}


def uses(code):
    return Coupon.objects.get(code=code).uses_count


def test_look_up_an_amount_coupon(api_client):
    c = coupon(
        min_spend_minor=5000, uses_allowed=3, expires_at=program_midnight(dt.date(2030, 1, 1))
    )
    body = api_client.get(f"/api/v1/coupons/{c.code.lower()}").json()
    assert body == {
        "code": c.code,
        "kind": "amount",
        "status": "active",
        "discount": {"amount": "10.00", "currency": "CNY"},
        "percent": None,
        "max_discount": None,
        "min_spend": "50.00",
        "uses_left": 3,
        "expires_at": "2029-12-31T16:00:00Z",
        "owner": None,
        "applicable": True,
        "reason": None,
    }


def test_look_up_a_percent_coupon_for_a_member_and_total(api_client):
    member = MemberFactory()
    c = coupon(kind="percent", percent=15, max_discount_minor=2000, owner=member, uses_allowed=None)
    url = f"/api/v1/coupons/{c.code}?member={member.number}&total=100.00"
    body = api_client.get(url).json()
    assert body["discount"] == {"amount": "15.00", "currency": "CNY"}
    assert (body["percent"], body["max_discount"], body["uses_left"]) == (15, "20.00", None)
    assert body["owner"] == member.number and body["applicable"] is True
    capped = api_client.get(f"/api/v1/coupons/{c.code}?member={member.number}&total=500.00")
    assert capped.json()["discount"]["amount"] == "20.00"


@pytest.mark.parametrize(
    ("make", "query", "status", "reason"),
    [
        (lambda: coupon(min_spend_minor=5000), "?total=49.99", "active", "coupon_min_spend"),
        (lambda: coupon(owner=MemberFactory()), "", "active", "coupon_not_yours"),
        (
            lambda: coupon(expires_at=timezone.now() - dt.timedelta(seconds=1)),
            "",
            "expired",
            "coupon_expired",
        ),
        (lambda: _used_up(coupon()), "", "used_up", "coupon_used_up"),
        (lambda: _voided(coupon()), "", "void", "coupon_void"),
    ],
)
def test_a_lookup_says_why_a_coupon_does_not_apply(api_client, make, query, status, reason):
    c = make()
    body = api_client.get(f"/api/v1/coupons/{c.code}{query}").json()
    assert (body["status"], body["applicable"], body["reason"]) == (status, False, reason)


def _used_up(c):
    Coupon.objects.filter(pk=c.pk).update(uses_count=1)
    return c


def _voided(c):
    coupon_void(coupon=c, reason="test")
    return c


def test_an_unknown_coupon_is_not_found(api_client):
    assert_error(api_client.get("/api/v1/coupons/NOSUCHCODE"), 404, "not_found")
    assert_error(
        post(api_client, "/api/v1/coupons/NOSUCHCODE/redeem", redeem_body()), 404, "not_found"
    )
    assert_error(post(api_client, "/api/v1/coupons/X/release", {"order_id": "1"}), 404, "not_found")


def test_redeem_a_coupon(api_client):
    member = MemberFactory()
    c = coupon(uses_allowed=2)
    body = redeem_body(member=member.number)
    first = post(api_client, f"/api/v1/coupons/{c.code}/redeem", body)
    assert first.status_code == 201, first.content
    assert first.json() == {
        "code": c.code,
        "order_id": "1001",
        "discount": {"amount": "10.00", "currency": "CNY"},
        "uses_left": 1,
    }
    again = post(api_client, f"/api/v1/coupons/{c.code}/redeem", body)
    assert again.status_code == 200 and again.json()["order_id"] == "1001"
    assert uses(c.code) == 1


@pytest.mark.parametrize(
    ("make", "body", "status", "code"),
    [
        (lambda: _used_up(coupon()), {}, 409, "coupon_used_up"),
        (
            lambda: coupon(expires_at=timezone.now() - dt.timedelta(seconds=1)),
            {},
            422,
            "coupon_expired",
        ),
        (lambda: coupon(owner=MemberFactory()), {}, 403, "coupon_not_yours"),
        (lambda: coupon(min_spend_minor=10_001), {}, 422, "coupon_min_spend"),
        (lambda: _voided(coupon()), {}, 422, "coupon_void"),
        (lambda: coupon(), {"total": "-1.00"}, 422, "invalid"),
        (lambda: coupon(), {"total": "1.001"}, 422, "invalid"),
        (lambda: coupon(), {"member": "M00000000"}, 404, "not_found"),
        (lambda: coupon(), {"surprise": 1}, 422, "invalid"),
    ],
)
def test_every_refused_redeem_changes_nothing(api_client, make, body, status, code):
    c = make()
    before = uses(c.code)
    response = post(api_client, f"/api/v1/coupons/{c.code}/redeem", {**redeem_body(), **body})
    assert_error(response, status, code)
    assert uses(c.code) == before
    assert not CouponUse.objects.exists()


def test_a_frozen_member_cannot_redeem_a_coupon(api_client):
    member = MemberFactory(status=Member.Status.FROZEN)
    c = coupon()
    response = post(
        api_client, f"/api/v1/coupons/{c.code}/redeem", redeem_body(member=member.number)
    )
    assert_error(response, 403, "member_inactive")


def test_the_same_key_with_another_body_is_a_conflict(api_client):
    c = coupon(uses_allowed=5)
    post(api_client, f"/api/v1/coupons/{c.code}/redeem", redeem_body(key="k"))
    response = post(
        api_client, f"/api/v1/coupons/{c.code}/redeem", redeem_body(total="99.00", key="k")
    )
    assert_error(response, 409, "conflict")
    assert uses(c.code) == 1


def test_release_then_redeem_again(api_client):
    c = coupon(uses_allowed=1)
    post(api_client, f"/api/v1/coupons/{c.code}/redeem", redeem_body("cart-1"))
    refused = post(api_client, f"/api/v1/coupons/{c.code}/redeem", redeem_body("cart-2"))
    assert_error(refused, 409, "coupon_used_up")

    released = post(api_client, f"/api/v1/coupons/{c.code}/release", {"order_id": "cart-1"})
    assert released.status_code == 200
    assert released.json() == {"code": c.code, "order_id": "cart-1", "uses_left": 1}

    again = post(api_client, f"/api/v1/coupons/{c.code}/redeem", redeem_body("cart-2", key="k2"))
    assert again.status_code == 201
    assert uses(c.code) == 1


def test_an_order_consumes_its_coupons_in_its_transaction(api_client):
    member = MemberFactory()
    c = coupon(uses_allowed=1)
    order = {
        "order_id": "o-1",
        "member": member.number,
        "placed_at": timezone.now().isoformat(),
        "currency": "CNY",
        "total": "100.00",
        "coupons": [c.code.lower()],
    }
    assert post(api_client, "/api/v1/orders", order).status_code == 201
    assert CouponUse.objects.get().order_id == "o-1"
    assert uses(c.code) == 1

    second = {**order, "order_id": "o-2"}
    assert_error(post(api_client, "/api/v1/orders", second), 409, "coupon_used_up")
    from shop.models import Order

    assert not Order.objects.filter(order_id="o-2").exists()
    assert balance_get(member=member).pending == 100


def test_an_order_refunded_in_full_gives_its_coupon_use_back(api_client):
    member = MemberFactory()
    c = coupon(uses_allowed=1)
    order = {
        "order_id": "o-1",
        "member": member.number,
        "placed_at": timezone.now().isoformat(),
        "currency": "CNY",
        "total": "100.00",
        "coupons": [c.code],
    }
    post(api_client, "/api/v1/orders", order)
    post(api_client, "/api/v1/orders/o-1/refunds", {"refund_id": "r-1", "amount": "40.00"})
    assert uses(c.code) == 1
    post(api_client, "/api/v1/orders/o-1/refunds", {"refund_id": "r-2", "amount": "60.00"})
    assert uses(c.code) == 0
    assert CouponUse.objects.get().released_at is not None


def test_the_rewards_catalogue_for_a_member(api_client):
    member = member_with_points(1500, language="zh-hans")
    gold = Tier.objects.get(code="gold")
    make_reward(code="ten-off", name="10 off", name_zh_hans="减10元", points=1000, stock=5)
    make_reward(code="gold-gift", kind="gift", coupon=None, points=500, min_tier=gold)
    make_reward(code="big", points=2000, per_member_limit=2)
    make_reward(code="gone", points=100, stock=0)
    make_reward(code="hidden", active=False)

    body = api_client.get(f"/api/v1/rewards?member={member.number}").json()

    by_code = {r["code"]: r for r in body["results"]}
    assert set(by_code) == {"ten-off", "gold-gift", "big", "gone"}
    assert by_code["ten-off"] == {
        "code": "ten-off",
        "name": "减10元",
        "kind": "coupon",
        "points": 1000,
        "stock_left": 5,
        "min_tier": None,
        "per_member_limit": None,
        "available": True,
        "reason": None,
    }
    assert (by_code["gold-gift"]["available"], by_code["gold-gift"]["reason"]) == (
        False,
        "tier_required",
    )
    assert by_code["big"]["reason"] == "insufficient_points"
    assert by_code["gone"]["reason"] == "out_of_stock"
    everyone = api_client.get("/api/v1/rewards").json()["results"]
    assert {r["code"]: r["available"] for r in everyone} == {
        "ten-off": True,
        "gold-gift": True,
        "big": True,
        "gone": False,
    }


def test_redeem_a_reward_and_cancel_it(api_client, django_capture_on_commit_callbacks):
    member = member_with_points(5000)
    reward = make_reward(code="ten-off", stock=3)
    body = {"member": member.number, "reward": "ten-off", "idempotency_key": "r-1"}

    with django_capture_on_commit_callbacks(execute=True):
        response = post(api_client, "/api/v1/redemptions", body)

    assert response.status_code == 201, response.content
    out = response.json()
    issued = Coupon.objects.get()
    assert out["points"] == 1000 and out["status"] == "active" and out["reward"] == "ten-off"
    assert out["coupon"]["code"] == issued.code
    assert out["coupon"]["expires_at"]
    assert post(api_client, "/api/v1/redemptions", body).json()["id"] == out["id"]
    assert len(mail.outbox) == 1
    assert issued.code in mail.outbox[0].body
    assert "10 yuan off" in mail.outbox[0].subject

    cancelled = post(api_client, f"/api/v1/redemptions/{out['id']}/cancel", {})
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert balance_get(member=member).available == 5000
    assert Reward.objects.get(pk=reward.pk).stock == 3
    assert Coupon.objects.get().voided_at is not None


def test_a_gift_is_to_ship(api_client):
    member = member_with_points(5000)
    make_reward(code="mug", kind="gift", coupon=None)
    out = post(
        api_client,
        "/api/v1/redemptions",
        {"member": member.number, "reward": "mug", "idempotency_key": "g"},
    ).json()
    assert (out["status"], out["coupon"]) == ("to_ship", None)


@pytest.mark.parametrize(
    ("fields", "points", "status", "code"),
    [
        ({"stock": 0}, 5000, 409, "out_of_stock"),
        ({"min_tier_code": "gold"}, 5000, 403, "tier_required"),
        ({}, 999, 409, "insufficient_points"),
        ({"active": False}, 5000, 422, "reward_unavailable"),
        ({"ends_at": program_midnight(dt.date(2026, 1, 1))}, 5000, 422, "reward_unavailable"),
    ],
)
def test_every_refused_reward_redemption_changes_nothing(api_client, fields, points, status, code):
    member = member_with_points(points)
    if tier := fields.pop("min_tier_code", None):
        fields["min_tier"] = Tier.objects.get(code=tier)
    make_reward(code="r", **fields)
    body = {"member": member.number, "reward": "r", "idempotency_key": "k"}
    with time_machine.travel(program_midnight(dt.date(2026, 6, 1)), tick=False):
        assert_error(post(api_client, "/api/v1/redemptions", body), status, code)
    assert balance_get(member=member).available == points
    assert not RewardRedemption.objects.exists() and not Coupon.objects.exists()


def test_the_per_member_limit_through_the_api(api_client):
    member = member_with_points(5000)
    make_reward(code="r", per_member_limit=1)
    body = {"member": member.number, "reward": "r", "idempotency_key": "1"}
    assert post(api_client, "/api/v1/redemptions", body).status_code == 201
    assert_error(
        post(api_client, "/api/v1/redemptions", {**body, "idempotency_key": "2"}),
        409,
        "reward_limit",
    )
    assert balance_get(member=member).available == 4000


@pytest.mark.parametrize(
    "body",
    [
        {"idempotency_key": "k"},
        {"idempotency_key": "k", "points": 100, "reward": "r"},
        {"idempotency_key": "k", "reward": "r", "order_total": "10.00"},
    ],
)
def test_a_redemption_names_points_or_a_reward(api_client, body):
    member = member_with_points(5000)
    make_reward(code="r")
    response = post(api_client, "/api/v1/redemptions", {"member": member.number, **body})
    assert_error(response, 422, "invalid")
    assert not Redemption.objects.exists() and not RewardRedemption.objects.exists()


def test_an_unknown_reward_is_not_found(api_client):
    member = member_with_points(5000)
    body = {"member": member.number, "reward": "nope", "idempotency_key": "k"}
    assert_error(post(api_client, "/api/v1/redemptions", body), 404, "not_found")


def test_cancelling_an_unknown_redemption_is_not_found(api_client):
    url = "/api/v1/redemptions/6f1c2d3e-0000-4000-8000-000000000000/cancel"
    assert_error(post(api_client, url, {}), 404, "not_found")


def test_cancelling_a_reward_whose_coupon_was_used_is_a_conflict(api_client):
    member = member_with_points(5000)
    make_reward(code="r")
    out = post(
        api_client,
        "/api/v1/redemptions",
        {"member": member.number, "reward": "r", "idempotency_key": "k"},
    ).json()
    code = out["coupon"]["code"]
    post(
        api_client,
        f"/api/v1/coupons/{code}/redeem",
        redeem_body(member=member.number, total="60.00"),
    )
    assert_error(post(api_client, f"/api/v1/redemptions/{out['id']}/cancel", {}), 409, "conflict")
    assert balance_get(member=member).available == 4000


def test_an_unknown_query_parameter_is_refused(api_client):
    error = assert_error(api_client.get("/api/v1/rewards?colour=red"), 400, "invalid")
    assert error["fields"] == {"colour": "Unknown parameter."}
    c = coupon()
    assert_error(api_client.get(f"/api/v1/coupons/{c.code}?totl=1.00"), 400, "invalid")
