"""The nightly KPI snapshot against a small data set computed by hand: every
metric, for the day before the run's --as-of."""

import datetime as dt

import pytest
import time_machine

from batch.runner import job_run
from batch.services import program_midnight
from campaigns.catalogue import campaign_save
from campaigns.documents import document_parse
from campaigns.models import Campaign, CampaignGrant, MemberSegment, OrderCampaign
from campaigns.rules import campaign_variant
from members.models import Member
from points.models import Entry
from points.services import Source, points_adjust, points_earn, points_redeem
from shop.models import OrderLine
from staff.models import KpiSnapshot
from tests.campaigns.documents import campaign_doc
from tests.factories import MemberFactory, OrderFactory, UserFactory
from tiers.models import MemberTier, PaidPlan, Subscription, Tier

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2026, 11, 20)
DAY = dt.date(2026, 11, 19)  # the day the snapshot describes
NOON = program_midnight(DAY) + dt.timedelta(hours=12)


def _figures(day=DAY):
    return {(row.metric, row.dimension): row.value for row in KpiSnapshot.objects.filter(day=day)}


def _tier(member, code):
    MemberTier.objects.update_or_create(
        member=member, defaults={"tier": Tier.objects.get(code=code), "since": NOON}
    )


def _segment(member, stage):
    MemberSegment.objects.create(member=member, lifecycle=stage, computed_on=DAY)


def _order(member, total_minor, placed_at, refunded=0, order_id=None):
    return OrderFactory(
        member=member,
        total_minor=total_minor,
        placed_at=placed_at,
        refunded_minor=refunded,
        **({"order_id": order_id} if order_id else {}),
    )


@pytest.fixture
def programme():
    """Five members:

    - a: Gold, active stage, joined long ago; orders: 300.00 and 100.00 on DAY, one
      200 days before (3 in the year: a repeat buyer); earned 1000, redeemed 400
      on DAY; a Plus plan running, bought on DAY for 99.00;
    - b: Silver, at risk, joined on DAY; one order 50.00 on DAY; earned 200 on
      DAY, a staff credit of 30 and a debit of 10;
    - c: no tier row (the lowest), not segmented; one order 120 days ago;
    - d: frozen, dormant; an order 10 days ago;
    - e: closed (counted only by status).
    """
    staff = UserFactory(is_staff=True, is_superuser=True)
    with time_machine.travel(program_midnight(DAY) - dt.timedelta(days=400), tick=False):
        a, c, d, e = (MemberFactory() for _ in range(4))
    with time_machine.travel(NOON, tick=False):
        b = MemberFactory()
    _tier(a, "gold")
    _tier(b, "silver")
    _tier(d, "member")
    _segment(a, "active")
    _segment(b, "at_risk")
    _segment(d, "dormant")
    Member.objects.filter(pk=d.pk).update(status=Member.Status.FROZEN)
    Member.objects.filter(pk=e.pk).update(status=Member.Status.CLOSED)

    first = _order(a, 30_000, NOON)
    _order(a, 10_000, NOON + dt.timedelta(hours=1))
    _order(a, 20_000, NOON - dt.timedelta(days=200))
    _order(b, 5_000, NOON)
    _order(c, 7_000, NOON - dt.timedelta(days=120))
    _order(d, 4_000, NOON - dt.timedelta(days=10))
    _order(a, 9_900, program_midnight(AS_OF) + dt.timedelta(hours=1))  # after the day: not counted

    plan = PaidPlan.objects.create(
        code="plus", name="Plus", sku="PLUS-1Y", price_minor=9_900, extra_multiplier="0.50"
    )
    plan_order = _order(a, 9_900, NOON + dt.timedelta(hours=2))
    OrderLine.objects.create(order=plan_order, sku="PLUS-1Y", quantity=1, amount_minor=9_900)
    Subscription.objects.create(
        member=a, plan=plan, starts_at=NOON, ends_at=NOON + dt.timedelta(days=365)
    )

    with time_machine.travel(NOON, tick=False):
        points_earn(member=a, points=1000, source=Source(Entry.Source.ORDER, "o1"), key="a1")
        points_redeem(member=a, points=400, source=Source(Entry.Source.REWARD, "r"), key="a2")
        points_earn(member=b, points=200, source=Source(Entry.Source.ORDER, "o2"), key="b1")
        points_adjust(member=b, points=30, reason="goodwill", actor=staff, key="b2")
        points_adjust(member=b, points=-10, reason="fix", actor=staff, key="b3")
    with time_machine.travel(NOON - dt.timedelta(days=3), tick=False):
        points_earn(member=c, points=500, source=Source(Entry.Source.ORDER, "o3"), key="c1")

    ab = {"variants": {"A": 50, "B": 50}, "control": "A"}
    document = campaign_doc(code="double", ab=ab, starts_at="2026-01-01T00:00:00+08:00")
    campaign = campaign_save(document=document_parse(document))
    OrderCampaign.objects.create(order=first, campaign=campaign, points=300)
    CampaignGrant.objects.create(
        campaign=campaign, member=b, period="once", points=50, created_at=NOON
    )
    return a, b, c, d, e


def _ab(members, orders, spend):
    """The A/B figures of the campaign "double" for the variants of `members`:
    each member's variant is the stable hash of their number."""
    document = document_parse(Campaign.objects.get(code="double").document)
    figures = {}
    for member in members:
        key = f"double:{campaign_variant(document, member.number)}"
        figures[("ab_members", key)] = figures.get(("ab_members", key), 0) + 1
        if orders.get(member):
            figures[("ab_orders", key)] = figures.get(("ab_orders", key), 0) + orders[member]
            figures[("ab_spend_minor", key)] = (
                figures.get(("ab_spend_minor", key), 0) + spend[member]
            )
    return figures


def test_every_kpi_of_the_day(programme):
    a, b, c, _d, _e = programme
    with time_machine.travel(program_midnight(AS_OF) + dt.timedelta(minutes=5), tick=False):
        run = job_run(name="kpi_snapshot", as_of=AS_OF, chunk_size=2)
    assert run.status == "succeeded", run.error

    # The A/B campaign targets every active member: a, b and c.
    ab = _ab([a, b, c], orders={a: 3, b: 1}, spend={a: 49_900, b: 5_000})
    assert _figures() == {
        **ab,
        ("members", "active"): 3,
        ("members", "frozen"): 1,
        ("members", "closed"): 1,
        ("members_tier", "gold"): 1,
        ("members_tier", "silver"): 1,
        ("members_tier", "member"): 2,  # c has no tier row: the lowest
        ("members_stage", "active"): 1,
        ("members_stage", "at_risk"): 1,
        ("members_stage", "dormant"): 1,
        ("members_stage", ""): 1,
        ("members_new", ""): 1,
        ("members_active", ""): 3,  # a, b, d (c's order is 120 days old)
        ("buyers", ""): 4,
        ("repeat_buyers", ""): 1,
        ("orders", "gold"): 3,
        ("order_value_minor", "gold"): 49_900,
        ("orders", "silver"): 1,
        ("order_value_minor", "silver"): 5_000,
        ("points_issued", ""): 1230,  # 1000 + 200 + 30
        ("points_redeemed", ""): 400,
        ("liability_points", ""): 600 + 220 + 500,
        ("plan_members", "plus"): 1,
        ("plan_revenue_minor", "plus"): 9_900,
        ("campaign_orders", "double"): 1,
        ("campaign_points", "double"): 350,
        ("campaign_grants", "double"): 1,
    }


def test_a_second_run_or_a_rerun_with_other_chunks_counts_each_member_once(programme):
    with time_machine.travel(program_midnight(AS_OF) + dt.timedelta(minutes=5), tick=False):
        job_run(name="kpi_snapshot", as_of=AS_OF, chunk_size=2)
        first = _figures()
        job_run(name="kpi_snapshot", as_of=AS_OF, chunk_size=3)
        job_run(name="kpi_snapshot", as_of=AS_OF, chunk_size=1)
    assert _figures() == first


def test_a_rerun_after_a_failed_chunk_counts_the_rest_once(programme, monkeypatch):
    from staff import kpis

    real = kpis._points
    calls = []

    def failing(figures, members, end, day_start):
        calls.append(members.first_id)
        if len(calls) == 2:
            raise RuntimeError("database went away")
        real(figures, members, end, day_start)

    monkeypatch.setattr(kpis, "_points", failing)
    with time_machine.travel(program_midnight(AS_OF) + dt.timedelta(minutes=5), tick=False):
        with pytest.raises(RuntimeError):
            job_run(name="kpi_snapshot", as_of=AS_OF, chunk_size=2)
        assert KpiSnapshot.objects.exists()  # the first chunk's part is in
        monkeypatch.setattr(kpis, "_points", real)
        # Another chunk size: the new chunks overlap the one that succeeded.
        assert job_run(name="kpi_snapshot", as_of=AS_OF, chunk_size=3).status == "succeeded"
    assert _figures()[("members", "active")] == 3
    assert _figures()[("liability_points", "")] == 1320
    assert _figures()[("buyers", "")] == 4
