"""The nightly `price_protection` job: a coupon for a price drop after an order,
once per line, for paid-plan members only, never for a rise."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail

from batch.models import JobChunk
from batch.services import program_midnight
from notifications.models import Message
from notifications.services import outbox_send_due
from personalisation.models import PriceProtection
from rewards.models import Coupon
from shop.models import Order, OrderLine, Product, ProductPrice
from shop.selectors import shop_default
from shop.services import ProductInput, product_upsert
from tests.factories import MemberFactory
from tests.tiers.helpers import night
from tiers.models import PaidPlan, Subscription

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2026, 11, 20)
MIDNIGHT = program_midnight(AS_OF)
DAY = dt.timedelta(days=1)


@pytest.fixture
def plan():
    return PaidPlan.objects.create(
        code="plus", name="Plus", sku="PLUS-1Y", price_minor=19_900, extra_multiplier=Decimal("0.5")
    )


def _member(plan=None):
    member = MemberFactory()
    if plan is not None:
        Subscription.objects.create(
            member=member, plan=plan, starts_at=MIDNIGHT - 30 * DAY, ends_at=MIDNIGHT + 300 * DAY
        )
    return member


def _price(sku, price_minor, at, active=True):
    product_upsert(
        data=ProductInput(
            sku=sku, name=f"Kettle {sku}", price_minor=price_minor, currency="CNY", active=active
        ),
        at=at,
    )


def _bought(member, sku, *, at, quantity=1, amount_minor=10_000):
    order = Order.objects.create(
        shop=shop_default(),
        order_id=f"o-{Order.objects.count()}",
        member=member,
        placed_at=at,
        currency="CNY",
        total_minor=amount_minor,
        fingerprint="x",
    )
    return OrderLine.objects.create(
        order=order, sku=sku, quantity=quantity, amount_minor=amount_minor
    )


def test_a_drop_gives_one_coupon_for_the_difference_per_line_and_an_email(plan):
    member = _member(plan)
    _price("K1", 5_000, MIDNIGHT - 10 * DAY)
    one = _bought(member, "K1", at=MIDNIGHT - 3 * DAY, quantity=2, amount_minor=10_000)
    two = _bought(member, "K1", at=MIDNIGHT - 2 * DAY, quantity=1, amount_minor=4_500)
    _price("K1", 4_000, MIDNIGHT - DAY)

    night("price_protection", AS_OF)

    protections = {p.line_id: p for p in PriceProtection.objects.all()}
    assert set(protections) == {one.pk, two.pk}
    assert protections[one.pk].amount_minor == 2_000  # (5,000 - 4,000) x 2
    assert protections[two.pk].amount_minor == 500  # paid 4,500, now 4,000
    coupon = protections[one.pk].coupon
    assert (coupon.kind, coupon.amount_minor, coupon.owner, coupon.source) == (
        "amount",
        2_000,
        member,
        Coupon.Source.PRICE_PROTECTION,
    )
    assert Message.objects.filter(template="personalisation.price_protected").count() == 2
    outbox_send_due()
    assert any(coupon.code in message.body for message in mail.outbox)

    JobChunk.objects.update(status="failed")  # a crashed night is run again
    night("price_protection", AS_OF)
    night("price_protection", AS_OF + DAY)

    assert PriceProtection.objects.count() == 2
    assert Coupon.objects.filter(source=Coupon.Source.PRICE_PROTECTION).count() == 2
    assert Message.objects.filter(template="personalisation.price_protected").count() == 2


def test_nothing_without_a_running_paid_plan(plan):
    member = _member()
    lapsed = _member(plan)
    Subscription.objects.filter(member=lapsed).update(ends_at=MIDNIGHT - DAY)
    _price("K1", 5_000, MIDNIGHT - 10 * DAY)
    _bought(member, "K1", at=MIDNIGHT - 3 * DAY, amount_minor=5_000)
    _bought(lapsed, "K1", at=MIDNIGHT - 3 * DAY, amount_minor=5_000)
    _price("K1", 4_000, MIDNIGHT - DAY)

    night("price_protection", AS_OF)

    assert not PriceProtection.objects.exists()
    assert not Coupon.objects.exists()


def test_nothing_for_a_rise_or_a_price_still_above_what_was_paid(plan):
    member = _member(plan)
    _price("UP", 5_000, MIDNIGHT - 10 * DAY)
    _price("DISCOUNTED", 5_000, MIDNIGHT - 10 * DAY)
    _bought(member, "UP", at=MIDNIGHT - 3 * DAY, amount_minor=5_000)
    _bought(member, "DISCOUNTED", at=MIDNIGHT - 3 * DAY, amount_minor=3_000)
    _price("UP", 6_000, MIDNIGHT - DAY)
    _price("DISCOUNTED", 4_000, MIDNIGHT - DAY)
    assert ProductPrice.objects.count() == 4

    night("price_protection", AS_OF)

    assert not PriceProtection.objects.exists()


def test_only_within_the_protection_days_of_the_order_and_active_products(plan, settings):
    settings.PRICE_PROTECTION_DAYS = 7
    member = _member(plan)
    for sku in ("OLD", "EDGE", "BEFORE", "GONE"):
        _price(sku, 5_000, MIDNIGHT - 30 * DAY)
    _bought(member, "OLD", at=MIDNIGHT - 7 * DAY - dt.timedelta(seconds=1), amount_minor=5_000)
    edge = _bought(member, "EDGE", at=MIDNIGHT - 7 * DAY, amount_minor=5_000)
    _bought(member, "BEFORE", at=MIDNIGHT - 3 * DAY, amount_minor=5_000)
    _bought(member, "GONE", at=MIDNIGHT - 3 * DAY, amount_minor=5_000)
    for sku in ("OLD", "EDGE"):
        _price(sku, 4_000, MIDNIGHT - DAY)
    _price("BEFORE", 4_000, MIDNIGHT - 4 * DAY)  # dropped before the order: paid the old price
    _price("GONE", 4_000, MIDNIGHT - DAY, active=False)

    night("price_protection", AS_OF)

    assert list(PriceProtection.objects.values_list("line_id", flat=True)) == [edge.pk]
    assert Product.objects.get(sku="BEFORE").price_minor == 4_000
