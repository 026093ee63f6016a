"""The nightly tier_coupons job: tier benefits that are coupons, once per member
and period, whatever the chunking or the number of runs."""

import datetime as dt

import pytest
from django.utils import timezone

from batch.services import program_midnight
from notifications.models import WebhookDelivery
from notifications.webhooks import webhook_endpoint_add
from rewards.models import Coupon
from tests.factories import MemberFactory
from tests.tiers.helpers import night
from tiers.models import MemberTier, PaidPlan, Subscription, Tier

pytestmark = pytest.mark.django_db


def member_at(code, **kwargs):
    member = MemberFactory(**kwargs)
    MemberTier.objects.create(member=member, tier=Tier.objects.get(code=code), since=timezone.now())
    return member


def free_shipping(member):
    return Coupon.objects.filter(owner=member, kind="free_shipping")


def test_gold_and_up_get_one_free_shipping_coupon_a_month():
    gold, diamond, silver = member_at("gold"), member_at("diamond"), member_at("silver")
    run = night("tier_coupons", dt.date(2026, 12, 1))
    assert run.counts["free_shipping_coupons"] == 2
    coupon = free_shipping(gold).get()
    assert coupon.source == "tier" and coupon.source_ref == "free_shipping:2026-12"
    assert coupon.uses_allowed == 1
    assert coupon.expires_at == program_midnight(dt.date(2027, 1, 1))
    assert free_shipping(diamond).count() == 1
    assert not free_shipping(silver).exists()


def test_a_second_run_and_another_chunking_issue_nothing_more():
    members = [member_at("gold") for _ in range(5)]
    night("tier_coupons", dt.date(2026, 12, 1), chunk_size=2)
    assert Coupon.objects.count() == 5
    again = night("tier_coupons", dt.date(2026, 12, 2), chunk_size=3)
    assert again.counts["free_shipping_coupons"] == 0
    assert Coupon.objects.count() == 5
    night("tier_coupons", dt.date(2027, 1, 1), chunk_size=10)
    for member in members:
        assert sorted(free_shipping(member).values_list("source_ref", flat=True)) == [
            "free_shipping:2026-12",
            "free_shipping:2027-01",
        ]


def test_a_member_reaching_gold_mid_month_gets_that_months_coupon_next_night():
    member = member_at("silver")
    night("tier_coupons", dt.date(2026, 12, 1))
    MemberTier.objects.filter(member=member).update(tier=Tier.objects.get(code="gold"))
    night("tier_coupons", dt.date(2026, 12, 15))
    assert list(free_shipping(member).values_list("source_ref", flat=True)) == [
        "free_shipping:2026-12"
    ]


def birthday_member(code, birthday):
    return member_at(code, birthday=birthday, birthday_set_at=program_midnight(dt.date(2025, 1, 1)))


def test_silver_and_up_get_a_birthday_gift_coupon_once_a_year():
    silver = birthday_member("silver", dt.date(1990, 12, 3))
    plain = birthday_member("member", dt.date(1990, 12, 3))
    other_day = birthday_member("gold", dt.date(1990, 12, 4))
    run = night("tier_coupons", dt.date(2026, 12, 3))
    assert run.counts["birthday_coupons"] == 1
    coupon = Coupon.objects.get(owner=silver, kind="gift")
    assert coupon.source_ref == "birthday:2026"
    assert coupon.expires_at == program_midnight(dt.date(2027, 1, 2))
    assert not Coupon.objects.filter(owner=plain).exists()
    assert not Coupon.objects.filter(owner=other_day, kind="gift").exists()
    night("tier_coupons", dt.date(2026, 12, 3))
    assert Coupon.objects.filter(owner=silver, kind="gift").count() == 1


def test_the_29th_of_february_is_celebrated_on_the_28th_in_other_years():
    leapling = birthday_member("silver", dt.date(2000, 2, 29))
    night("tier_coupons", dt.date(2027, 2, 28))
    assert Coupon.objects.filter(owner=leapling, kind="gift").count() == 1
    night("tier_coupons", dt.date(2028, 2, 28))
    night("tier_coupons", dt.date(2028, 2, 29))
    assert list(
        Coupon.objects.filter(owner=leapling, kind="gift").values_list("source_ref", flat=True)
    ) == ["birthday:2027", "birthday:2028"]


def test_a_birthday_set_less_than_thirty_days_ago_earns_no_coupon():
    member = member_at(
        "gold",
        birthday=dt.date(1990, 12, 3),
        birthday_set_at=program_midnight(dt.date(2026, 11, 20)),
    )
    night("tier_coupons", dt.date(2026, 12, 3))
    assert not Coupon.objects.filter(owner=member, kind="gift").exists()


def test_a_code_clash_is_made_up_in_the_same_run(monkeypatch):
    from rewards import jobs

    Coupon.objects.create(code="CLASHCODE2", kind="gift", source="staff")
    codes = iter(["CLASHCODE2", "FRESHCODE2"])
    monkeypatch.setattr(jobs, "code_generate", lambda: next(codes))
    member = member_at("gold")
    run = night("tier_coupons", dt.date(2026, 12, 1))
    assert run.counts["free_shipping_coupons"] == 1
    assert free_shipping(member).get().code == "FRESHCODE2"


def subscribed(member, *, free_shipping=False, birthday_gift=False, ends_at=None):
    plan = PaidPlan.objects.create(
        code=f"plus-{member.pk}",
        name="Plus",
        sku=f"PLUS-{member.pk}",
        price_minor=19_900,
        free_shipping=free_shipping,
        birthday_gift=birthday_gift,
    )
    return Subscription.objects.create(
        member=member,
        plan=plan,
        starts_at=program_midnight(dt.date(2026, 6, 1)),
        ends_at=ends_at or program_midnight(dt.date(2027, 6, 1)),
    )


def test_a_paid_plan_with_free_shipping_gives_the_monthly_coupon_once_whatever_the_tier():
    planned = member_at("member")
    subscribed(planned, free_shipping=True)
    gold_planned = member_at("gold")
    subscribed(gold_planned, free_shipping=True)
    plan_without = member_at("member")
    subscribed(plan_without)
    plan_ended = member_at("silver")
    subscribed(plan_ended, free_shipping=True, ends_at=program_midnight(dt.date(2026, 11, 30)))

    run = night("tier_coupons", dt.date(2026, 12, 1))

    assert run.counts["free_shipping_coupons"] == 2
    assert free_shipping(planned).get().source_ref == "free_shipping:2026-12"
    assert free_shipping(gold_planned).count() == 1
    assert not free_shipping(plan_without).exists()
    assert not free_shipping(plan_ended).exists()


def test_a_paid_plan_with_a_birthday_gift_gives_the_birthday_coupon():
    member = birthday_member("member", dt.date(1990, 12, 3))
    subscribed(member, birthday_gift=True)

    run = night("tier_coupons", dt.date(2026, 12, 3))

    assert run.counts["birthday_coupons"] == 1
    assert Coupon.objects.get(owner=member, kind="gift").source_ref == "birthday:2026"


def test_the_coupons_issued_are_announced_to_webhooks_once(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    webhook_endpoint_add(url="http://127.0.0.1:9/hooks", events=["coupon.issued"])
    gold = member_at("gold")
    night("tier_coupons", dt.date(2026, 12, 1))
    night("tier_coupons", dt.date(2026, 12, 2))

    [delivery] = WebhookDelivery.objects.filter(event="coupon.issued")
    coupon = free_shipping(gold).get()
    assert delivery.payload["code"] == coupon.code
    assert delivery.payload["member"] == gold.number
    assert delivery.payload["kind"] == "free_shipping"
    assert delivery.payload["source"] == "tier"
    assert delivery.payload["expires_at"] == coupon.expires_at.isoformat()
