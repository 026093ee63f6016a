"""Coupon services: codes, every refusal from its cause, discounts, redeem,
release and void."""

import datetime as dt

import pytest
import time_machine

from batch.services import program_midnight
from members.models import Member
from points.errors import MemberInactive
from rewards.errors import (
    Conflict,
    CouponExpired,
    CouponMinSpend,
    CouponNotYours,
    CouponUsedUp,
    CouponVoid,
    Invalid,
    NotFound,
)
from rewards.models import Coupon, CouponKind, CouponUse
from rewards.services.coupons import (
    CODE_ALPHABET,
    CODE_LENGTH,
    CouponSpec,
    code_generate,
    coupon_create,
    coupon_discount,
    coupon_expiry,
    coupon_redeem,
    coupon_refusal,
    coupon_release,
    coupon_status,
    coupon_uses_release_for_order,
    coupon_void,
    coupons_consume_for_order,
)
from shop.selectors import shop_default
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def amount_coupon(minor=1000, **kwargs):
    spec_fields = {
        key: kwargs.pop(key) for key in list(kwargs) if key in CouponSpec.__dataclass_fields__
    }
    return coupon_create(
        spec=CouponSpec(kind=spec_fields.pop("kind", "amount"), amount_minor=minor, **spec_fields),
        source=Coupon.Source.STAFF,
        **kwargs,
    )


def redeem(coupon, order_id="o-1", total=10_000, key=None, member=None):
    return coupon_redeem(
        shop=shop_default(),
        code=coupon.code,
        order_id=order_id,
        total_minor=total,
        key=key or f"k-{order_id}",
        fingerprint=f"fp-{order_id}-{total}",
        member=member,
    )


def test_codes_come_from_the_unambiguous_alphabet():
    codes = {code_generate() for _ in range(2000)}
    assert len(codes) == 2000
    for code in codes:
        assert len(code) == CODE_LENGTH
        assert set(code) <= set(CODE_ALPHABET)
    assert not set(CODE_ALPHABET) & set("01IOL")


def test_a_code_is_found_in_any_case_and_with_spaces():
    coupon = amount_coupon()
    use, created = coupon_redeem(
        shop=shop_default(),
        code=f"  {coupon.code.lower()} ",
        order_id="o-1",
        total_minor=5000,
        key="k",
        fingerprint="f",
    )
    assert created and use.coupon == coupon


def test_codes_are_unique_whatever_their_case(db):
    from django.db import IntegrityError, transaction

    coupon = amount_coupon()
    with pytest.raises(IntegrityError), transaction.atomic():
        Coupon.objects.create(code=coupon.code.lower(), kind="gift", source="staff")
    with pytest.raises(IntegrityError), transaction.atomic():
        Coupon.objects.create(code=coupon.code, kind="gift", source="staff")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (CouponSpec(kind="amount", amount_minor=0), "above zero"),
        (CouponSpec(kind="percent", percent=0), "percent"),
        (CouponSpec(kind="percent", percent=101), "percent"),
        (CouponSpec(kind="amount", amount_minor=100, max_discount_minor=50), "percent coupon"),
        (CouponSpec(kind="gift", uses_allowed=0), "at least one use"),
        (CouponSpec(kind="cash"), "Unknown"),
    ],
)
def test_bad_terms_are_refused_and_nothing_is_written(spec, message):
    with pytest.raises(Invalid, match=message):
        coupon_create(spec=spec, source=Coupon.Source.STAFF)
    assert not Coupon.objects.exists()


def test_amount_off_is_at_most_the_total():
    coupon = amount_coupon(1000)
    assert coupon_discount(coupon=coupon, total_minor=5000) == 1000
    assert coupon_discount(coupon=coupon, total_minor=600) == 600


def test_percent_off_rounds_down_and_is_capped():
    coupon = coupon_create(
        spec=CouponSpec(kind="percent", percent=15, max_discount_minor=2000), source="staff"
    )
    assert coupon_discount(coupon=coupon, total_minor=10_001) == 1500
    assert coupon_discount(coupon=coupon, total_minor=13_333) == 1999
    assert coupon_discount(coupon=coupon, total_minor=50_000) == 2000
    uncapped = coupon_create(spec=CouponSpec(kind="percent", percent=15), source="staff")
    assert coupon_discount(coupon=uncapped, total_minor=50_000) == 7500


def test_free_shipping_and_gift_take_nothing_off_the_goods():
    for kind in (CouponKind.FREE_SHIPPING, CouponKind.GIFT):
        coupon = coupon_create(spec=CouponSpec(kind=kind), source="staff")
        assert coupon_discount(coupon=coupon, total_minor=10_000) == 0


def test_min_spend_one_minor_unit_below_is_refused_and_at_it_accepted():
    coupon = amount_coupon(1000, min_spend_minor=5000)
    with pytest.raises(CouponMinSpend):
        redeem(coupon, total=4999)
    assert Coupon.objects.get(pk=coupon.pk).uses_count == 0
    assert not CouponUse.objects.exists()
    use, _ = redeem(coupon, total=5000)
    assert use.discount_minor == 1000


def test_expiry_is_at_the_programmes_midnight():
    last_day = dt.date(2026, 12, 31)
    coupon = amount_coupon(expires_at=coupon_expiry(last_day=last_day), uses_allowed=None)
    midnight = program_midnight(dt.date(2027, 1, 1))
    assert coupon.expires_at == midnight
    with time_machine.travel(midnight - dt.timedelta(seconds=1), tick=False):
        assert coupon_status(coupon=coupon) == "active"
        redeem(coupon, order_id="before")
    with time_machine.travel(midnight, tick=False):
        assert coupon_status(coupon=coupon) == "expired"
        with pytest.raises(CouponExpired):
            redeem(coupon, order_id="after")
    assert Coupon.objects.get(pk=coupon.pk).uses_count == 1


@pytest.mark.parametrize(
    ("change", "refused"),
    [
        ({"expires_at": program_midnight(dt.date(2026, 1, 1))}, CouponExpired),
        ({"voided_at": program_midnight(dt.date(2026, 1, 1))}, CouponVoid),
        ({"uses_count": 1}, CouponUsedUp),
    ],
)
def test_the_conditional_update_refuses_what_changed_after_the_checks(monkeypatch, change, refused):
    """The coupon passed the checks, then expired, was voided or used up before
    the use was taken: the UPDATE's own condition refuses it."""
    from rewards.services import coupons

    coupon = amount_coupon(uses_allowed=1)
    Coupon.objects.filter(pk=coupon.pk).update(**change)
    monkeypatch.setattr(coupons, "coupon_refusal", lambda **kwargs: None)
    with pytest.raises(refused):
        redeem(coupon)
    assert not CouponUse.objects.exists()
    assert Coupon.objects.get(pk=coupon.pk).uses_count == change.get("uses_count", 0)


def test_a_coupon_of_another_member_is_refused():
    owner, other = MemberFactory(), MemberFactory()
    coupon = amount_coupon(owner=owner)
    with pytest.raises(CouponNotYours):
        redeem(coupon, member=other)
    with pytest.raises(CouponNotYours):
        redeem(coupon, member=None)
    use, _ = redeem(coupon, member=owner)
    assert use.member == owner


def test_a_frozen_member_cannot_redeem():
    member = MemberFactory(status=Member.Status.FROZEN)
    with pytest.raises(MemberInactive) as refused:
        redeem(amount_coupon(), member=member)
    assert refused.value.code == "member_inactive"


def test_an_unknown_code_is_not_found():
    with pytest.raises(NotFound):
        coupon_redeem(
            shop=shop_default(), code="NOPE", order_id="o", total_minor=1, key="k", fingerprint="f"
        )


def test_uses_run_out_and_then_the_coupon_is_used_up():
    coupon = amount_coupon(uses_allowed=2)
    redeem(coupon, order_id="a")
    redeem(coupon, order_id="b")
    with pytest.raises(CouponUsedUp):
        redeem(coupon, order_id="c")
    coupon.refresh_from_db()
    assert coupon.uses_count == 2
    assert coupon_status(coupon=coupon) == "used_up"


def test_unlimited_uses():
    coupon = amount_coupon(uses_allowed=None)
    for n in range(5):
        redeem(coupon, order_id=f"o-{n}")
    assert Coupon.objects.get(pk=coupon.pk).uses_count == 5


def test_a_void_coupon_is_refused():
    coupon = amount_coupon()
    assert coupon_void(coupon=coupon, reason="leaked")
    assert not coupon_void(coupon=coupon, reason="again")
    with pytest.raises(CouponVoid):
        redeem(coupon)
    coupon.refresh_from_db()
    assert coupon_status(coupon=coupon) == "void"
    assert coupon.void_reason == "leaked"


def test_the_same_key_again_is_the_first_use_and_another_body_a_conflict():
    coupon = amount_coupon(uses_allowed=3)
    first, created = redeem(coupon, order_id="o-1", key="k")
    again, created_again = redeem(coupon, order_id="o-1", key="k")
    assert created and not created_again and again.pk == first.pk
    with pytest.raises(Conflict):
        redeem(coupon, order_id="o-1", total=1, key="k")
    assert Coupon.objects.get(pk=coupon.pk).uses_count == 1


def test_a_retry_after_the_last_use_was_taken_is_the_first_use_not_used_up():
    coupon = amount_coupon(uses_allowed=1)
    first, _created = redeem(coupon, order_id="o-1", key="k")

    again, created = redeem(coupon, order_id="o-1", key="k")

    assert not created and again.pk == first.pk
    with pytest.raises(CouponUsedUp):
        redeem(coupon, order_id="o-2", key="k-2")
    assert Coupon.objects.get(pk=coupon.pk).uses_count == 1


def test_one_order_uses_a_coupon_once():
    coupon = amount_coupon(uses_allowed=3)
    redeem(coupon, order_id="o-1", key="k-1")
    with pytest.raises(Conflict):
        redeem(coupon, order_id="o-1", key="k-2")
    assert Coupon.objects.get(pk=coupon.pk).uses_count == 1


def test_release_then_redeem_again():
    coupon = amount_coupon(uses_allowed=1)
    redeem(coupon, order_id="cart-1", key="k-1")
    with pytest.raises(CouponUsedUp):
        redeem(coupon, order_id="cart-2", key="k-2")

    released = coupon_release(shop=shop_default(), code=coupon.code, order_id="cart-1")
    assert released.uses_count == 0
    assert (
        coupon_release(shop=shop_default(), code=coupon.code, order_id="cart-1").uses_count == 0
    )  # twice: once

    use, created = redeem(coupon, order_id="cart-2", key="k-3")
    assert created and use.order_id == "cart-2"
    assert Coupon.objects.get(pk=coupon.pk).uses_count == 1
    with pytest.raises(Conflict, match="released"):
        redeem(coupon, order_id="cart-1", key="k-1")


def test_releasing_an_order_that_never_used_the_coupon_is_not_found():
    coupon = amount_coupon()
    with pytest.raises(NotFound):
        coupon_release(shop=shop_default(), code=coupon.code, order_id="never")


def test_an_orders_uses_are_released_together():
    first, second = amount_coupon(), amount_coupon(uses_allowed=None)
    member = MemberFactory()
    uses = coupons_consume_for_order(
        shop=shop_default(),
        codes=[first.code, second.code.lower(), first.code],
        order_id="o-9",
        member=member,
        total_minor=10_000,
    )
    assert len(uses) == 2
    assert coupon_uses_release_for_order(shop=shop_default(), order_id="o-9") == 2
    assert coupon_uses_release_for_order(shop=shop_default(), order_id="o-9") == 0
    assert [c.uses_count for c in Coupon.objects.order_by("pk")] == [0, 0]


def test_an_order_counts_the_use_it_redeemed_at_checkout():
    coupon = amount_coupon(uses_allowed=1)
    redeem(coupon, order_id="o-1", key="checkout")
    uses = coupons_consume_for_order(
        shop=shop_default(),
        codes=[coupon.code],
        order_id="o-1",
        member=MemberFactory(),
        total_minor=10_000,
    )
    assert uses[0].idempotency_key == "checkout"
    assert Coupon.objects.get(pk=coupon.pk).uses_count == 1


def test_refusal_reasons_for_the_lookup_skip_what_is_not_given():
    coupon = amount_coupon(min_spend_minor=5000, owner=MemberFactory())
    assert isinstance(coupon_refusal(coupon=coupon), CouponNotYours)
    assert coupon_refusal(coupon=coupon, member=coupon.owner) is None
    assert isinstance(
        coupon_refusal(coupon=coupon, member=coupon.owner, total_minor=4999), CouponMinSpend
    )
