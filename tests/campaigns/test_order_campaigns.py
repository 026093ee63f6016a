"""Campaigns on the order path: what they add, stacking, A/B, budgets, refunds."""

import datetime as dt

import pytest
from django.utils import timezone

from campaigns.catalogue import campaign_save, campaigns_cache_clear
from campaigns.documents import document_parse
from campaigns.models import Campaign, OrderCampaign
from campaigns.rules import campaign_variant
from campaigns.services import refund_record
from points.models import Entry
from points.selectors import balance_get
from shop.selectors import shop_default
from tests.campaigns.documents import campaign_doc
from tests.factories import MemberFactory, ledger_is_clean, order_place

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_cached_campaigns():
    campaigns_cache_clear()
    yield
    campaigns_cache_clear()


def _campaign(kind="multiplier", **fields):
    return campaign_save(document=document_parse(campaign_doc(kind, **fields)))


def _entries(member):
    return sorted(
        Entry.objects.filter(member=member).values_list(
            "source_type", "source_ref", "pending_change"
        )
    )


def test_campaigns_add_their_points_as_entries_of_their_own_and_rules_name_them():
    _campaign(code="double", stackable=True, priority=5)
    _campaign("order_bonus", code="bonus", stackable=True, conditions={"min_total": "100.00"})
    _campaign(code="triple", reward={"multiplier": "3"})  # the best that does not stack
    _campaign(code="x1-5", reward={"multiplier": "1.5"})  # beaten by triple
    member = MemberFactory()

    order, result = order_place(member, 12_345)

    assert result.points == 123 + 123 + 100 + 246
    assert result.rules == ["base", "double", "bonus", "triple"]
    assert _entries(member) == sorted(
        [
            ("order", order.order_id, 123),
            ("campaign", f"double/{order.pk}", 123),
            ("campaign", f"bonus/{order.pk}", 100),
            ("campaign", f"triple/{order.pk}", 246),
        ]
    )
    assert balance_get(member=member).pending == 592
    assert OrderCampaign.objects.filter(order=order).count() == 3
    assert ledger_is_clean()


def test_a_campaign_saved_here_applies_to_the_next_order_at_once():
    member = MemberFactory()
    order_place(member, 10_000)
    _campaign(code="double")

    _order, result = order_place(member, 10_000)

    assert result.rules == ["base", "double"]


def test_targeting_window_and_the_ab_control():
    ab = {"variants": {"A": 1, "B": 1}, "control": "A"}
    _campaign(code="for-gold", target={"tiers": ["gold"]}, stackable=True)
    _campaign(code="ab", ab=ab, stackable=True)
    _campaign(code="later", starts_at=(timezone.now() + dt.timedelta(days=1)).isoformat())
    document = document_parse(campaign_doc(code="ab", ab=ab))
    members = [MemberFactory() for _ in range(12)]

    rules = {m.number: order_place(m, 10_000)[1].rules for m in members}

    for member in members:
        treated = campaign_variant(document, member.number) == "B"
        assert rules[member.number] == (["base", "ab"] if treated else ["base"])
    assert {
        OrderCampaign.objects.filter(campaign__code="ab").values_list("variant", flat=True).first()
    } == {"B"}


def test_a_campaign_out_of_budget_stops_applying():
    _campaign(code="double", budget={"points": 250, "per_member": 150})
    first, second, third = MemberFactory(), MemberFactory(), MemberFactory()

    results = [
        order_place(first, 10_000)[1],  # +100
        order_place(first, 10_000)[1],  # +100 would pass the member's 150
        order_place(second, 10_000)[1],  # +100
        order_place(third, 10_000)[1],  # +100 would pass the 250
        order_place(third, 5_000)[1],  # +50 fits
    ]

    assert [r.rules for r in results] == [
        ["base", "double"],
        ["base"],
        ["base", "double"],
        ["base"],
        ["base", "double"],
    ]
    campaign = Campaign.objects.get()
    assert (campaign.spent, campaign.out_of_budget) == (250, True)


def test_a_refund_takes_back_campaign_points_in_proportion():
    _campaign(code="double", stackable=True)
    _campaign("order_bonus", code="bonus", stackable=True, conditions={"min_total": "100.00"})
    member = MemberFactory()
    order, result = order_place(member, 10_000)  # 100 + 100 + 100
    assert result.points == 300

    refunds = [
        refund_record(
            shop=shop_default(),
            order_id=order.order_id,
            refund_id=f"R{n}",
            amount_minor=amount,
            lines=[],
            fingerprint=f"R{n}",
        )[0].points_reversed
        for n, amount in enumerate([3_333, 3_333, 3_334])
    ]

    assert refunds == [99, 99, 102]
    assert balance_get(member=member).pending == 0
    by_source = {}
    for entry in Entry.objects.filter(member=member, kind=Entry.Kind.REVERSE):
        by_source[entry.reverses.source_ref] = (
            by_source.get(entry.reverses.source_ref, 0) + entry.pending_change
        )
    assert by_source == {
        order.order_id: -100,
        f"double/{order.pk}": -100,
        f"bonus/{order.pk}": -100,
    }
    again = refund_record(
        shop=shop_default(),
        order_id=order.order_id,
        refund_id="R1",
        amount_minor=3_333,
        lines=[],
        fingerprint="R1",
    )
    assert again == (again[0], False) and again[0].points_reversed == 99
    assert ledger_is_clean()


def test_welcome_pays_on_the_first_order_only():
    _campaign("welcome", stackable=True)
    member = MemberFactory()

    first = order_place(member, 1_000)[1]
    second = order_place(member, 1_000)[1]

    assert (first.points, first.rules) == (210, ["base", "test-welcome"])
    assert (second.points, second.rules) == (10, ["base"])
