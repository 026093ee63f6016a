"""The evaluators at their edges: pure functions, no database."""

import datetime as dt
import zoneinfo
from collections import Counter

import pytest

from campaigns.documents import document_parse
from campaigns.rules import (
    LineFacts,
    MemberFacts,
    OrderFacts,
    Programme,
    campaign_variant,
    multiplier_points,
    order_bonus_points,
    order_offers,
    stack,
    welcome_points,
)
from tests.campaigns.documents import campaign_doc

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
RULES = Programme(zone=SHANGHAI, minor_per_unit=100, points_per_unit=1)
MEMBER = MemberFacts(number="M00000001", tier="member")


def _at(*args):
    return dt.datetime(*args, tzinfo=SHANGHAI)


def _order(net=10_000, at=None, lines=(), first=False):
    return OrderFacts(
        placed_at=at or _at(2026, 12, 5, 12), net_minor=net, lines=lines, first_order=first
    )


def _offers(documents, order, member=MEMBER):
    return order_offers(
        [document_parse(d) for d in documents], order=order, member=member, programme=RULES
    )


def test_a_window_starts_at_its_first_instant_and_ends_before_its_last():
    doc = campaign_doc(starts_at="2026-12-01T00:00:00+08:00", ends_at="2026-12-02T00:00:00+08:00")

    def applies(at):
        return bool(_offers([doc], _order(at=at)))

    assert not applies(_at(2026, 11, 30, 23, 59, 59))
    assert applies(_at(2026, 12, 1, 0, 0))
    # 2026-12-01 15:59 UTC is 23:59 in Shanghai: still the 1st there.
    assert applies(dt.datetime(2026, 12, 1, 15, 59, 59, tzinfo=dt.UTC))
    assert not applies(dt.datetime(2026, 12, 1, 16, 0, tzinfo=dt.UTC))


def test_the_weekday_is_the_programmes_not_utcs():
    saturday_only = document_parse(campaign_doc(conditions={"weekdays": [6]}))
    # Friday 2026-12-04 17:00 UTC is Saturday 01:00 in Shanghai.
    friday_utc = dt.datetime(2026, 12, 4, 17, 0, tzinfo=dt.UTC)
    assert friday_utc.isoweekday() == 5

    assert multiplier_points(saturday_only, _order(at=friday_utc), RULES) == 100
    assert multiplier_points(saturday_only, _order(at=_at(2026, 12, 4, 23, 59)), RULES) == 0


def test_a_member_day_is_a_day_of_the_month_in_the_programmes_zone():
    doc = document_parse(campaign_doc("member_day"))  # the 18th, x2

    assert multiplier_points(doc, _order(at=_at(2026, 12, 18, 0, 0)), RULES) == 100
    assert (
        multiplier_points(doc, _order(at=dt.datetime(2026, 12, 18, 16, 0, tzinfo=dt.UTC)), RULES)
        == 0
    )


def test_min_total_one_minor_unit_below_does_not_earn_the_bonus():
    doc = document_parse(campaign_doc("order_bonus"))  # 199.00 -> 100 points

    assert order_bonus_points(doc, _order(net=19_900), RULES) == 100
    assert order_bonus_points(doc, _order(net=19_899), RULES) == 0


def test_a_multiplier_counts_only_the_lines_it_names_in_whole_units():
    doc = document_parse(
        campaign_doc(
            conditions={"categories": ["tea"], "skus": ["CUP-1"]}, reward={"multiplier": "1.5"}
        )
    )
    lines = (
        LineFacts(sku="TEA-9", category="tea", amount_minor=10_099),
        LineFacts(sku="CUP-1", category="ware", amount_minor=2_000),
        LineFacts(sku="PEN-1", category="office", amount_minor=50_000),
    )

    # 120.99 -> 120 units x 0.5 extra = 60
    assert multiplier_points(doc, _order(net=62_099, lines=lines), RULES) == 60
    assert multiplier_points(doc, _order(net=50_000, lines=lines[2:]), RULES) == 0


def test_welcome_pays_on_the_first_order_only():
    doc = document_parse(campaign_doc("welcome"))

    assert welcome_points(doc, _order(first=True), RULES) == 200
    assert welcome_points(doc, _order(first=False), RULES) == 0


@pytest.mark.parametrize(
    ("target", "member", "applies"),
    [
        ({"tiers": ["gold"]}, MemberFacts(number="M1", tier="gold"), True),
        ({"tiers": ["gold"]}, MemberFacts(number="M1", tier="silver"), False),
        ({"segments": ["dormant"]}, MemberFacts(number="M1", lifecycle="dormant"), True),
        ({"segments": ["dormant"]}, MemberFacts(number="M1", lifecycle=None), False),
        ({"paid_plan": "plus"}, MemberFacts(number="M1", paid_plan="plus"), True),
        ({"paid_plan": "plus"}, MemberFacts(number="M1"), False),
        ({"sprint": True}, MemberFacts(number="M1", near_next_tier=True), True),
        ({"sprint": True}, MemberFacts(number="M1"), False),
    ],
)
def test_targeting(target, member, applies):
    assert bool(_offers([campaign_doc(target=target)], _order(), member)) is applies


def test_ab_variants_are_stable_weighted_and_the_control_earns_nothing():
    ab = {"variants": {"A": 20, "B": 80}, "control": "A"}
    doc = document_parse(campaign_doc(ab=ab))
    members = [MemberFacts(number=f"M{n:08d}") for n in range(2000)]

    variants = Counter(campaign_variant(doc, m.number) for m in members)
    earning = {m.number for m in members if _offers([campaign_doc(ab=ab)], _order(), m)}

    assert 300 < variants["A"] < 500 and variants["A"] + variants["B"] == 2000
    assert [campaign_variant(doc, m.number) for m in members[:50]] == [
        campaign_variant(doc, m.number) for m in members[:50]
    ]
    assert earning == {m.number for m in members if campaign_variant(doc, m.number) == "B"}
    salted = document_parse(campaign_doc(ab={**ab, "salt": "other"}))
    assert any(
        campaign_variant(salted, m.number) != campaign_variant(doc, m.number) for m in members
    )


def _stacked(documents, order=None, affordable=lambda offer: True):
    offers = _offers(documents, order or _order())
    return [(o.document.code, o.points) for o in stack(offers, affordable=affordable)]


def test_stackable_campaigns_all_apply_and_only_the_best_other_one():
    docs = [
        campaign_doc(code="x2", reward={"multiplier": "2"}),  # +100
        campaign_doc(code="x3", reward={"multiplier": "3"}),  # +200, best non-stackable
        campaign_doc(
            "order_bonus",
            code="bonus",
            conditions={"min_total": "50.00"},
            stackable=True,
            priority=5,
        ),
        campaign_doc(code="x1-5", reward={"multiplier": "1.5"}, stackable=True),  # +50
    ]

    assert _stacked(docs) == [("bonus", 100), ("x1-5", 50), ("x3", 200)]


def test_on_a_tie_the_higher_priority_wins_and_a_campaign_out_of_budget_gives_way():
    docs = [
        campaign_doc(code="low", priority=1),
        campaign_doc(code="high", priority=9),
        campaign_doc(code="small", reward={"multiplier": "1.1"}),
    ]

    assert _stacked(docs) == [("high", 100)]
    assert _stacked(docs, affordable=lambda o: o.document.code != "high") == [("low", 100)]
    assert _stacked(docs, affordable=lambda o: o.document.code == "small") == [("small", 10)]


def test_inactive_campaigns_and_other_kinds_never_apply_to_orders():
    docs = [campaign_doc(active=False), campaign_doc("birthday"), campaign_doc("signup")]

    assert _offers(docs, _order(first=True)) == []
