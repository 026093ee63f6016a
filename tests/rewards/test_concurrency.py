"""Real races on PostgreSQL: coupon uses and reward stock never go past their
limits, whatever runs at once."""

import pytest

from points.selectors import balance_get
from rewards.errors import CouponUsedUp, OutOfStock, RewardLimit
from rewards.models import Coupon, CouponUse, Reward, RewardRedemption
from rewards.services.coupons import CouponSpec, coupon_create, coupon_redeem
from rewards.services.gifts import gift_ship
from rewards.services.rewards import reward_redeem, reward_redemption_cancel
from shop.selectors import shop_default
from tests.concurrency import race
from tests.factories import ledger_is_clean

from .conftest import make_reward, member_with_points

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_fifty_redeems_at_once_of_a_coupon_with_ten_uses_succeed_ten_times():
    coupon = coupon_create(
        spec=CouponSpec(kind="amount", amount_minor=500, uses_allowed=10), source="staff"
    )

    results = race(
        50,
        lambda i: coupon_redeem(
            shop=shop_default(),
            code=coupon.code,
            order_id=f"o-{i}",
            total_minor=10_000,
            key=f"k-{i}",
            fingerprint=f"f-{i}",
        ),
        errors=True,
    )

    successes = [r for r in results if isinstance(r, tuple)]
    refusals = [r for r in results if isinstance(r, CouponUsedUp)]
    assert len(successes) == 10
    assert len(refusals) == 40
    assert Coupon.objects.get(pk=coupon.pk).uses_count == 10
    assert CouponUse.objects.count() == 10


def test_thirty_members_at_once_for_a_reward_with_stock_five():
    reward = make_reward(stock=5)
    members = [member_with_points(1500) for _ in range(30)]

    results = race(
        30,
        lambda i: reward_redeem(
            shop=shop_default(), member=members[i], reward_code=reward.code, key="r"
        ),
        errors=True,
    )

    issued = [r for r in results if isinstance(r, tuple)]
    refused = [i for i, r in enumerate(results) if isinstance(r, OutOfStock)]
    assert len(issued) == 5
    assert len(refused) == 25
    assert Reward.objects.get(pk=reward.pk).stock == 0
    assert Coupon.objects.count() == RewardRedemption.objects.count() == 5
    for i in refused:
        assert balance_get(member=members[i]).available == 1500
    assert sum(balance_get(member=m).available for m in members) == 30 * 1500 - 5 * 1000
    assert ledger_is_clean()


def test_one_members_parallel_redeems_against_a_limit_of_two():
    reward = make_reward(per_member_limit=2)
    member = member_with_points(20_000)

    results = race(
        10,
        lambda i: reward_redeem(
            shop=shop_default(), member=member, reward_code=reward.code, key=f"r-{i}"
        ),
        errors=True,
    )

    assert len([r for r in results if isinstance(r, tuple)]) == 2
    assert len([r for r in results if isinstance(r, RewardLimit)]) == 8
    assert RewardRedemption.objects.count() == 2
    assert balance_get(member=member).available == 18_000
    assert ledger_is_clean()


def test_a_gift_shipped_and_cancelled_at_once_is_one_or_the_other():
    reward = make_reward(kind=Reward.Kind.GIFT, coupon=None)
    member = member_with_points(10_000)
    gifts = [
        reward_redeem(shop=shop_default(), member=member, reward_code=reward.code, key=f"g{n}")[0]
        for n in range(8)
    ]

    for gift in gifts:
        results = race(
            2,
            lambda i, gift=gift: (
                gift_ship(gift=gift, note="SF1")
                if i == 0
                else reward_redemption_cancel(redemption=gift)
            ),
            errors=True,
        )
        assert sorted(type(result).__name__ for result in results) == [
            "Conflict",
            "RewardRedemption",
        ]

    shipped = RewardRedemption.objects.filter(status="shipped")
    cancelled = RewardRedemption.objects.filter(status="cancelled")
    assert shipped.count() + cancelled.count() == 8
    assert not shipped.filter(cancel_entry__isnull=False).exists()
    assert not cancelled.filter(shipped_at__isnull=False).exists()
    assert balance_get(member=member).available == 10_000 - 1000 * shipped.count()
    assert ledger_is_clean()
