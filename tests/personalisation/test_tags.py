"""The nightly `tags` job at its rules' edges, staff tags, the member lookup's
`tags`, and campaigns targeting a tag."""

import datetime as dt

import pytest

from batch.services import program_midnight, program_zone
from campaigns.catalogue import campaign_save, campaigns_cache_clear
from campaigns.documents import document_parse
from notifications.sendtime import usual_hour
from personalisation.models import BehaviourEvent, MemberTag, TagDefinition
from personalisation.services import UnknownTag, member_tag_add, member_tag_remove
from rewards.models import Coupon, CouponUse
from shop.models import Order, OrderLine
from shop.selectors import shop_default
from tests.campaigns.documents import campaign_doc
from tests.factories import MemberFactory, order_place
from tests.tiers.helpers import night

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2026, 11, 20)
MIDNIGHT = program_midnight(AS_OF)


def _order(member, lines, *, at=None, total=None, coupon=False):
    """An order of `lines` [(category, amount_minor)], placed `at` (default 10 days
    before the night)."""
    at = at or MIDNIGHT - dt.timedelta(days=10)
    order = Order.objects.create(
        shop=shop_default(),
        order_id=f"o-{Order.objects.count()}",
        member=member,
        placed_at=at,
        currency="CNY",
        total_minor=total if total is not None else sum(amount for _c, amount in lines),
        fingerprint="x",
    )
    for category, amount in lines:
        OrderLine.objects.create(order=order, category=category, quantity=1, amount_minor=amount)
    if coupon:
        code = Coupon.objects.create(
            code=f"C{order.pk}X", kind="amount", amount_minor=1, source="staff"
        )
        CouponUse.objects.create(
            coupon=code,
            shop=order.shop,
            order_id=order.order_id,
            member=member,
            idempotency_key=order.order_id,
            fingerprint="x",
            total_minor=order.total_minor,
            discount_minor=1,
        )
    return order


def _tags(member):
    return set(MemberTag.objects.filter(member=member).values_list("tag", flat=True))


def test_category_at_30_percent_in_two_orders():
    exactly = MemberFactory()
    _order(exactly, [("Tea", 1500), ("Books", 3500)])
    _order(exactly, [("Tea", 1500), ("Books", 3500)])
    under = MemberFactory()
    _order(under, [("Tea", 1499), ("Books", 3501)])
    _order(under, [("Tea", 1500), ("Books", 3500)])
    once = MemberFactory()
    _order(once, [("Tea", 10_000)])

    night("tags", AS_OF)

    assert "category:Tea" in _tags(exactly) and "category:Books" in _tags(exactly)
    assert "category:Tea" not in _tags(under) and "category:Books" in _tags(under)
    assert not any(tag.startswith("category:") for tag in _tags(once))


def test_only_the_window_counts(settings):
    settings.TAG_WINDOW_DAYS = 180
    member = MemberFactory()
    start = program_midnight(AS_OF - dt.timedelta(days=180))
    _order(member, [("Tea", 1000)], at=start)
    _order(member, [("Tea", 1000)], at=start - dt.timedelta(seconds=1))
    _order(member, [("Books", 1000)], at=start)
    _order(member, [("Books", 1000)], at=MIDNIGHT - dt.timedelta(seconds=1))
    _order(member, [("Books", 1000)], at=MIDNIGHT)  # the next day: not this night's

    night("tags", AS_OF)

    assert "category:Books" in _tags(member)
    assert "category:Tea" not in _tags(member)


def test_coupon_sensitive_from_half_of_two_orders():
    half = MemberFactory()
    _order(half, [("Tea", 1000)], coupon=True)
    _order(half, [("Tea", 1000)])
    third = MemberFactory()
    _order(third, [("Tea", 1000)], coupon=True)
    _order(third, [("Tea", 1000)])
    _order(third, [("Tea", 1000)])
    single = MemberFactory()
    _order(single, [("Tea", 1000)], coupon=True)

    night("tags", AS_OF)

    assert "coupon_sensitive" in _tags(half)
    assert "coupon_sensitive" not in _tags(third)
    assert "coupon_sensitive" not in _tags(single)


def test_high_value_at_the_threshold(settings):
    settings.TAG_HIGH_VALUE_SPEND = "5000.00"
    exactly, under, refunded = MemberFactory(), MemberFactory(), MemberFactory()
    _order(exactly, [("Tea", 500_000)])
    _order(under, [("Tea", 499_999)])
    order = _order(refunded, [("Tea", 600_000)])
    Order.objects.filter(pk=order.pk).update(refunded_minor=100_001)

    night("tags", AS_OF)

    assert "high_value" in _tags(exactly)
    assert "high_value" not in _tags(under)
    assert "high_value" not in _tags(refunded)


def _local(days_before, hour, minute=0):
    day = AS_OF - dt.timedelta(days=days_before)
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=program_zone())


def _behaviour(member, at, n):
    BehaviourEvent.objects.create(
        shop=shop_default(),
        event_id=f"b-{member.pk}-{n}",
        member=member,
        type=1,
        sku="A",
        occurred_at=at,
    )


def test_night_shopper_from_orders_and_behaviour_at_the_hours_edges():
    night_owl = MemberFactory()  # 22:00, 05:59 and 23:30 of 6: half, three
    _order(night_owl, [("Tea", 1000)], at=_local(3, 22, 0))
    _behaviour(night_owl, _local(4, 5, 59), 1)
    _behaviour(night_owl, _local(5, 23, 30), 2)
    for n, hour in enumerate([12, 14, 6]):
        _behaviour(night_owl, _local(6, hour), 10 + n)
    day_bird = MemberFactory()  # 21:59 and 06:00 are day: two of five at night
    _order(day_bird, [("Tea", 1000)], at=_local(3, 22, 30))
    _behaviour(day_bird, _local(4, 21, 59), 1)
    _behaviour(day_bird, _local(4, 6, 0), 2)
    _behaviour(day_bird, _local(5, 1, 0), 3)
    _behaviour(day_bird, _local(5, 13, 0), 4)

    night("tags", AS_OF)

    assert "night_shopper" in _tags(night_owl)
    assert "night_shopper" not in _tags(day_bird)


def test_lifecycle_tag_from_segments_and_tags_are_replaced_each_night():
    member = MemberFactory(joined_at=MIDNIGHT - dt.timedelta(days=400))
    _order(member, [("Tea", 1000)], at=MIDNIGHT - dt.timedelta(days=5))
    _order(member, [("Tea", 1000)], at=MIDNIGHT - dt.timedelta(days=4))
    night("segments", AS_OF)
    night("tags", AS_OF)
    assert {"lifecycle:active", "category:Tea"} <= _tags(member)

    later = AS_OF + dt.timedelta(days=100)
    night("segments", later)
    night("tags", later)

    tags = _tags(member)
    assert "lifecycle:dormant" in tags and "lifecycle:active" not in tags
    assert "category:Tea" in tags  # 104 days back: still in the 180-day window


def test_staff_tags_stay_through_the_night_and_show_on_the_lookup(api_client, admin_user):
    member = MemberFactory()
    TagDefinition.objects.create(code="vip-2026", name="VIP event 2026")
    member_tag_add(member=member, code="vip-2026", actor=admin_user)
    member_tag_add(member=member, code="vip-2026", actor=admin_user)
    with pytest.raises(UnknownTag):
        member_tag_add(member=member, code="nobody-defined-this")

    night("tags", AS_OF)

    assert api_client.get(f"/api/v1/members/{member.number}").json()["tags"] == ["vip-2026"]
    assert member_tag_remove(member=member, code="vip-2026")
    assert api_client.get(f"/api/v1/members/{member.number}").json()["tags"] == []


def test_a_campaign_targeting_a_tag_applies_only_to_tagged_members():
    campaigns_cache_clear()
    campaign_save(
        document=document_parse(
            campaign_doc(code="for-tea-lovers", target={"tags": ["category:Tea"]}, stackable=True)
        )
    )
    tagged, other = MemberFactory(), MemberFactory()
    MemberTag.objects.create(member=tagged, tag="category:Tea", source="rule")
    MemberTag.objects.create(member=other, tag="category:Books", source="rule")

    assert order_place(tagged, 10_000)[1].rules == ["base", "for-tea-lovers"]
    assert order_place(other, 10_000)[1].rules == ["base"]
    campaigns_cache_clear()


def test_a_second_run_of_the_night_writes_the_same_tags():
    member = MemberFactory()
    _order(member, [("Tea", 1000)])
    _order(member, [("Tea", 1000)])
    night("tags", AS_OF, chunk_size=1)
    first = _tags(member)
    from batch.models import JobChunk

    JobChunk.objects.update(status="failed")  # a crashed night: the re-run redoes all

    night("tags", AS_OF, chunk_size=3)

    assert _tags(member) == first == {"category:Tea"}


def test_the_send_time_counts_behaviour_hours_beside_order_hours():
    member = MemberFactory()
    for days in (3, 4):
        _order(member, [("Tea", 1000)], at=_local(days, 9))
    for n in range(3):
        _behaviour(member, _local(5 + n, 15, 30), n)
    now = MIDNIGHT + dt.timedelta(hours=12)
    assert usual_hour(member_id=member.pk, now=now) == 9  # not counted before the night

    night("tags", AS_OF)

    assert usual_hour(member_id=member.pk, now=now) == 15
    other = MemberFactory()
    _order(other, [("Tea", 1000)], at=_local(3, 9))
    assert usual_hour(member_id=other.pk, now=now) == 9
