"""Shops: every key acts for one shop; its orders, refunds, events and redemptions
are its own. Members and points are programme-wide."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from campaigns.models import Event
from loyalty_site.api import ApiKeyThrottle
from points.models import Redemption
from points.selectors import balance_get
from rewards.models import CouponUse, Reward, RewardRedemption
from rewards.services.coupons import CouponSpec, coupon_create
from shop.models import Order, Refund
from tests.api import assert_error, post
from tests.factories import ApiKeyFactory, MemberFactory, ShopFactory, ledger_is_clean

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _audit():
    yield
    assert ledger_is_clean()


def _client(shop):
    key = ApiKeyFactory(shop=shop)
    return Client(headers={"Authorization": f"Bearer {key.plaintext}"})


@pytest.fixture
def shops():
    return ShopFactory(code="tea-house"), ShopFactory(code="cup-works")


@pytest.fixture
def clients(shops):
    return tuple(_client(shop) for shop in shops)


@pytest.fixture
def member():
    return MemberFactory()


def _order(member, order_id, total="100.00", days_ago=30):
    return {
        "order_id": order_id,
        "member": member.number,
        "placed_at": (timezone.now() - dt.timedelta(days=days_ago)).isoformat(),
        "currency": "CNY",
        "total": total,
    }


def test_the_same_order_id_from_two_shops_is_two_orders(shops, clients, member):
    tea, cups = clients

    cups_order = _order(member, "1001", "250.00")
    first = post(tea, "/api/v1/orders", _order(member, "1001", "100.00"))
    second = post(cups, "/api/v1/orders", cups_order)

    assert (first.status_code, second.status_code) == (201, 201), second.content
    assert (first.json()["points"], second.json()["points"]) == (100, 250)
    assert {o.shop for o in Order.objects.filter(order_id="1001")} == set(shops)
    assert balance_get(member=member).available == 350
    # each shop's retry is answered from its own order
    assert post(cups, "/api/v1/orders", cups_order).json() == second.json()


def test_a_shop_cannot_refund_another_shop_s_order(clients, member):
    tea, cups = clients
    assert post(tea, "/api/v1/orders", _order(member, "T-1")).status_code == 201

    response = post(cups, "/api/v1/orders/T-1/refunds", {"refund_id": "R-1", "amount": "100.00"})

    assert_error(response, 404, "not_found")
    assert not Refund.objects.exists()
    assert Order.objects.get(order_id="T-1").refunded_minor == 0
    assert balance_get(member=member).available == 100


def test_each_shop_refunds_its_own_order_of_the_same_id(clients, member):
    tea, cups = clients
    post(tea, "/api/v1/orders", _order(member, "1001", "100.00"))
    post(cups, "/api/v1/orders", _order(member, "1001", "200.00"))

    refund = {"refund_id": "R-1", "amount": "50.00"}
    tea_refund = post(tea, "/api/v1/orders/1001/refunds", refund)
    cups_refund = post(cups, "/api/v1/orders/1001/refunds", refund)

    assert (tea_refund.json()["points_reversed"], cups_refund.json()["points_reversed"]) == (50, 50)
    assert Refund.objects.filter(refund_id="R-1").count() == 2
    assert balance_get(member=member).available == 300 - 100


def test_a_shop_cannot_cancel_another_shop_s_redemption(clients, member):
    tea, cups = clients
    post(tea, "/api/v1/orders", _order(member, "1001", "100.00"))
    redemption = post(
        tea,
        "/api/v1/redemptions",
        {"member": member.number, "points": 100, "idempotency_key": "k1"},
    ).json()

    response = post(cups, f"/api/v1/redemptions/{redemption['id']}/cancel", {})

    assert_error(response, 404, "not_found")
    assert Redemption.objects.get().status == "active"
    assert post(tea, f"/api/v1/redemptions/{redemption['id']}/cancel", {}).status_code == 200


def test_the_same_redemption_key_at_two_shops_is_two_redemptions(shops, clients, member):
    tea, cups = clients
    post(tea, "/api/v1/orders", _order(member, "1001", "300.00"))
    body = {"member": member.number, "points": 100, "idempotency_key": "checkout-1"}

    first, second = post(tea, "/api/v1/redemptions", body), post(cups, "/api/v1/redemptions", body)

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] != second.json()["id"]
    assert {r.shop for r in Redemption.objects.all()} == set(shops)
    assert balance_get(member=member).available == 100


def test_the_same_event_id_from_two_shops_is_two_events(clients, member):
    body = {
        "event_id": "rev-1",
        "member": member.number,
        "type": "review",
        "occurred_at": timezone.now().isoformat(),
    }
    for client in clients:
        assert post(client, "/api/v1/events", body).status_code == 201
    assert Event.objects.filter(event_id="rev-1").count() == 2


def test_members_and_points_are_programme_wide(clients, member):
    tea, cups = clients
    post(tea, "/api/v1/orders", _order(member, "1001", "100.00"))

    lookup = cups.get(f"/api/v1/members/{member.number}")

    assert lookup.status_code == 200
    assert lookup.json()["points"]["available"] == 100


def test_a_key_is_throttled_past_its_rate_with_retry_after(settings, clients):
    settings.API_RATE_LIMIT = "3/min"
    tea, cups = clients

    answers = [tea.get("/api/v1/members/M00000000").status_code for _ in range(3)]
    throttled = tea.get("/api/v1/members/M00000000")

    assert answers == [404, 404, 404]
    assert_error(throttled, 429, "throttled")
    assert 0 < int(throttled["Retry-After"]) <= 60
    assert cups.get("/api/v1/members/M00000000").status_code == 404  # another key's own count


def test_no_rate_limit_when_the_setting_is_empty(settings, clients):
    settings.API_RATE_LIMIT = ""
    tea, _cups = clients
    assert {tea.get("/api/v1/members/M00000000").status_code for _ in range(5)} == {404}


def _coupon(uses):
    return coupon_create(
        spec=CouponSpec(kind="amount", amount_minor=500, uses_allowed=uses), source="staff"
    )


def test_a_shop_cannot_release_another_shop_s_coupon_use(clients, member):
    tea, cups = clients
    coupon = _coupon(uses=1)
    use = {"member": member.number, "order_id": "1001", "total": "100.00", "idempotency_key": "u"}
    assert post(tea, f"/api/v1/coupons/{coupon.code}/redeem", use).status_code == 201

    response = post(cups, f"/api/v1/coupons/{coupon.code}/release", {"order_id": "1001"})

    assert_error(response, 404, "not_found")
    coupon.refresh_from_db()
    assert coupon.uses_count == 1
    assert CouponUse.objects.get().released_at is None


def test_a_full_refund_gives_back_only_its_own_shop_s_coupon_uses(shops, clients, member):
    tea, _cups = clients
    coupon = _coupon(uses=None)
    for client in clients:
        order = {**_order(member, "1001", "100.00"), "coupons": [coupon.code]}
        assert post(client, "/api/v1/orders", order).status_code == 201

    refund = post(tea, "/api/v1/orders/1001/refunds", {"refund_id": "R-1", "amount": "100.00"})

    assert refund.status_code == 201
    tea_shop, cups_shop = shops
    assert CouponUse.objects.get(shop=tea_shop).released_at is not None
    assert CouponUse.objects.get(shop=cups_shop).released_at is None
    coupon.refresh_from_db()
    assert coupon.uses_count == 1


def test_a_shop_cannot_cancel_another_shop_s_reward_redemption(shops, clients, member):
    tea, cups = clients
    post(tea, "/api/v1/orders", _order(member, "1001", "2000.00"))
    reward = Reward.objects.create(
        code="TEN-OFF",
        name="10 off",
        kind=Reward.Kind.COUPON,
        points=1000,
        coupon={"kind": "amount", "value": "10.00", "valid_days": 30},
    )
    body = {"member": member.number, "reward": reward.code, "idempotency_key": "k1"}
    before = balance_get(member=member).available
    redemption = post(tea, "/api/v1/redemptions", body).json()

    response = post(cups, f"/api/v1/redemptions/{redemption['id']}/cancel", {})

    assert_error(response, 404, "not_found")
    assert RewardRedemption.objects.get().status == "active"
    assert balance_get(member=member).available == before - 1000
    # the same key at the other shop is a redemption of its own
    assert post(cups, "/api/v1/redemptions", body).status_code == 201
    assert {r.shop for r in RewardRedemption.objects.all()} == set(shops)
    assert balance_get(member=member).available == before - 2000


def test_the_site_starts_with_no_rate_limit(settings):
    settings.API_RATE_LIMIT = ""
    throttle = ApiKeyThrottle()  # as the API builds it when the site starts
    assert throttle.rate is None
