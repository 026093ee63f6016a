"""Rewards bought with points: one transaction through the ledger, every refusal
from its cause (and nothing written), cancellation giving everything back."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from batch.services import program_midnight
from notifications.models import WebhookDelivery
from notifications.webhooks import webhook_endpoint_add
from points.errors import EmailNotVerified, InsufficientPoints
from points.models import Entry
from points.selectors import balance_get
from rewards.errors import (
    Conflict,
    Invalid,
    NotFound,
    OutOfStock,
    RewardLimit,
    RewardUnavailable,
    TierRequired,
)
from rewards.models import Coupon, Reward, RewardRedemption, StockAdjustment
from rewards.services.coupons import coupon_redeem
from rewards.services.gifts import gift_ship
from rewards.services.rewards import (
    reward_redeem,
    reward_redemption_cancel,
    reward_stock_adjust,
)
from shop.selectors import shop_default
from tiers.models import MemberTier, Tier

from .conftest import make_reward, member_with_points

pytestmark = pytest.mark.django_db


def assert_nothing_written(member, points_before, reward, stock_before):
    assert balance_get(member=member).available == points_before
    assert not RewardRedemption.objects.exists()
    assert not Coupon.objects.exists()
    assert Reward.objects.get(pk=reward.pk).stock == stock_before
    assert not Entry.objects.filter(kind=Entry.Kind.REDEEM).exists()


def test_a_coupon_reward_debits_points_takes_stock_and_issues_the_coupon(member):
    reward = make_reward(stock=3)
    at = program_midnight(dt.date(2026, 12, 1)) + dt.timedelta(hours=10)
    with time_machine.travel(at, tick=False):
        redemption, created = reward_redeem(
            shop=shop_default(), member=member, reward_code=reward.code, key="r-1"
        )
    assert created
    assert redemption.status == "active"
    assert balance_get(member=member).available == 4000
    assert Reward.objects.get(pk=reward.pk).stock == 2
    coupon = redemption.coupon
    assert coupon.owner == member
    assert (coupon.kind, coupon.amount_minor, coupon.min_spend_minor) == ("amount", 1000, 5000)
    assert coupon.source == "reward" and coupon.source_ref == reward.code
    # valid_days 30: 1 December and 29 days after, to the programme's midnight
    assert coupon.expires_at == program_midnight(dt.date(2026, 12, 31))
    assert redemption.entry.kind == Entry.Kind.REDEEM and redemption.entry.amount == -1000


def test_a_gift_is_to_ship_and_issues_no_coupon(member):
    reward = make_reward(kind=Reward.Kind.GIFT, coupon=None, stock=1)
    redemption, _ = reward_redeem(
        shop=shop_default(), member=member, reward_code=reward.code, key="g"
    )
    assert redemption.status == "to_ship"
    assert redemption.coupon is None
    assert Reward.objects.get(pk=reward.pk).stock == 0


def test_a_shipped_gift_cannot_be_cancelled_and_ships_once(member):
    reward = make_reward(kind=Reward.Kind.GIFT, coupon=None, stock=1)
    redemption, _ = reward_redeem(
        shop=shop_default(), member=member, reward_code=reward.code, key="g"
    )

    gift_ship(gift=redemption, note="")

    assert RewardRedemption.objects.get(pk=redemption.pk).status == "shipped"
    with pytest.raises(Conflict):
        gift_ship(gift=redemption)
    with pytest.raises(Conflict):
        reward_redemption_cancel(redemption=redemption)
    assert balance_get(member=member).available == 4000
    assert Reward.objects.get(pk=reward.pk).stock == 0


def test_a_coupon_is_not_shipped(member):
    redemption, _ = reward_redeem(
        shop=shop_default(), member=member, reward_code=make_reward().code, key="c"
    )
    with pytest.raises(Conflict):
        gift_ship(gift=redemption)
    assert RewardRedemption.objects.get(pk=redemption.pk).status == "active"


def test_a_reward_s_coupon_is_announced_to_coupon_issued_webhooks(member, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    webhook_endpoint_add(url="http://127.0.0.1:9/hooks", events=["coupon.issued"])
    redemption, _ = reward_redeem(
        shop=shop_default(), member=member, reward_code=make_reward().code, key="c"
    )
    [delivery] = WebhookDelivery.objects.filter(event="coupon.issued")
    assert delivery.payload["code"] == redemption.coupon.code
    assert delivery.payload["member"] == member.number
    assert delivery.payload["source"] == "reward"
    assert delivery.payload["discount"] == {"amount": "10.00", "currency": "CNY"}
    assert delivery.payload["min_spend"] == {"amount": "50.00", "currency": "CNY"}


def test_a_reward_bought_is_announced_to_redemption_created_webhooks(member, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    webhook_endpoint_add(url="http://127.0.0.1:9/hooks", events=["redemption.created"])
    gift = make_reward(kind=Reward.Kind.GIFT, coupon=None)
    redemption, _ = reward_redeem(
        shop=shop_default(), member=member, reward_code=gift.code, key="g"
    )
    reward_redeem(shop=shop_default(), member=member, reward_code=gift.code, key="g")  # a retry

    [delivery] = WebhookDelivery.objects.filter(event="redemption.created")
    assert delivery.payload == {
        "id": str(redemption.public_id),
        "member": member.number,
        "points": 1000,
        "status": "to_ship",
        "reward": gift.code,
        "coupon": None,
    }


def test_the_same_key_is_the_first_redemption_and_another_reward_a_conflict(member):
    reward, other = make_reward(), make_reward()
    first, _ = reward_redeem(shop=shop_default(), member=member, reward_code=reward.code, key="k")
    again, created = reward_redeem(
        shop=shop_default(), member=member, reward_code=reward.code, key="k"
    )
    assert not created and again.pk == first.pk
    with pytest.raises(Conflict):
        reward_redeem(shop=shop_default(), member=member, reward_code=other.code, key="k")
    assert balance_get(member=member).available == 4000
    assert Coupon.objects.count() == 1


def test_out_of_stock(member):
    reward = make_reward(stock=0)
    with pytest.raises(OutOfStock):
        reward_redeem(shop=shop_default(), member=member, reward_code=reward.code, key="k")
    assert_nothing_written(member, 5000, reward, 0)


def test_out_of_stock_found_by_the_conditional_update_undoes_the_debit(member, monkeypatch):
    """Stock read as 1, taken by someone else before the UPDATE: refused, and the
    points already debited in the transaction are not."""
    from rewards.services import rewards as service

    reward = make_reward(stock=1)
    monkeypatch.setattr(service, "reward_refusal", lambda **kwargs: None)
    Reward.objects.filter(pk=reward.pk).update(stock=0)
    with pytest.raises(OutOfStock):
        reward_redeem(shop=shop_default(), member=member, reward_code=reward.code, key="k")
    assert_nothing_written(member, 5000, reward, 0)


def test_per_member_limit(member):
    reward = make_reward(per_member_limit=2)
    reward_redeem(shop=shop_default(), member=member, reward_code=reward.code, key="1")
    reward_redeem(shop=shop_default(), member=member, reward_code=reward.code, key="2")
    with pytest.raises(RewardLimit):
        reward_redeem(shop=shop_default(), member=member, reward_code=reward.code, key="3")
    assert balance_get(member=member).available == 3000


def test_a_cancelled_redemption_does_not_count_towards_the_limit(member):
    reward = make_reward(per_member_limit=1)
    first, _ = reward_redeem(shop=shop_default(), member=member, reward_code=reward.code, key="1")
    reward_redemption_cancel(redemption=first)
    second, created = reward_redeem(
        shop=shop_default(), member=member, reward_code=reward.code, key="2"
    )
    assert created and second.status == "active"


def test_tier_required(member):
    gold = Tier.objects.get(code="gold")
    reward = make_reward(min_tier=gold, stock=5)
    with pytest.raises(TierRequired):
        reward_redeem(shop=shop_default(), member=member, reward_code=reward.code, key="k")
    assert_nothing_written(member, 5000, reward, 5)
    MemberTier.objects.create(member=member, tier=gold, since=timezone.now())
    redemption, _ = reward_redeem(
        shop=shop_default(), member=member, reward_code=reward.code, key="k"
    )
    assert redemption.status == "active"


def test_insufficient_points():
    member = member_with_points(999)
    reward = make_reward(stock=5)
    with pytest.raises(InsufficientPoints):
        reward_redeem(shop=shop_default(), member=member, reward_code=reward.code, key="k")
    assert_nothing_written(member, 999, reward, 5)


@pytest.mark.parametrize(
    "fields",
    [
        {"active": False},
        {"starts_at": program_midnight(dt.date(2027, 1, 1))},
        {"ends_at": program_midnight(dt.date(2026, 1, 1))},
    ],
)
def test_reward_unavailable(member, fields):
    reward = make_reward(stock=5, **fields)
    with (
        time_machine.travel(program_midnight(dt.date(2026, 6, 1)), tick=False),
        pytest.raises(RewardUnavailable),
    ):
        reward_redeem(shop=shop_default(), member=member, reward_code=reward.code, key="k")
    assert_nothing_written(member, 5000, reward, 5)


def test_an_unknown_reward_is_not_found(member):
    with pytest.raises(NotFound):
        reward_redeem(shop=shop_default(), member=member, reward_code="nope", key="k")


def test_an_unverified_member_cannot_redeem():
    member = member_with_points(5000, email_verified_at=None)
    with pytest.raises(EmailNotVerified) as refused:
        reward_redeem(shop=shop_default(), member=member, reward_code=make_reward().code, key="k")
    assert refused.value.code == "email_unverified"
    assert not RewardRedemption.objects.exists()


def test_cancel_gives_points_and_stock_back_and_voids_the_coupon(member):
    reward = make_reward(stock=2)
    redemption, _ = reward_redeem(
        shop=shop_default(), member=member, reward_code=reward.code, key="k"
    )
    cancelled = reward_redemption_cancel(redemption=redemption)
    assert cancelled.status == "cancelled"
    assert cancelled.cancel_entry.kind == Entry.Kind.CANCEL
    assert balance_get(member=member).available == 5000
    assert Reward.objects.get(pk=reward.pk).stock == 2
    assert Coupon.objects.get().voided_at is not None
    again = reward_redemption_cancel(redemption=redemption)
    assert again.cancel_entry_id == cancelled.cancel_entry_id
    assert balance_get(member=member).available == 5000
    assert Reward.objects.get(pk=reward.pk).stock == 2


def test_cancel_is_refused_once_the_coupon_was_used(member):
    reward = make_reward(stock=2)
    redemption, _ = reward_redeem(
        shop=shop_default(), member=member, reward_code=reward.code, key="k"
    )
    coupon_redeem(
        shop=shop_default(),
        code=redemption.coupon.code,
        order_id="o-1",
        total_minor=10_000,
        key="u",
        fingerprint="f",
        member=member,
    )
    with pytest.raises(Conflict):
        reward_redemption_cancel(redemption=redemption)
    assert balance_get(member=member).available == 4000
    assert Reward.objects.get(pk=reward.pk).stock == 1
    assert RewardRedemption.objects.get().status == "active"


def test_stock_is_adjusted_with_a_reason_and_never_below_zero(admin_user):
    reward = make_reward(stock=3)
    reward_stock_adjust(reward=reward, change=10, reason="delivery", actor=admin_user)
    reward_stock_adjust(reward=reward, change=-13, reason="count", actor=admin_user)
    with pytest.raises(OutOfStock):
        reward_stock_adjust(reward=reward, change=-1, reason="more", actor=admin_user)
    with pytest.raises(Invalid):
        reward_stock_adjust(reward=reward, change=5, reason="  ")
    assert Reward.objects.get(pk=reward.pk).stock == 0
    assert list(StockAdjustment.objects.order_by("pk").values_list("change", "stock_after")) == [
        (10, 13),
        (-13, 0),
    ]
    with pytest.raises(Invalid):
        reward_stock_adjust(reward=make_reward(stock=None), change=1, reason="x")
