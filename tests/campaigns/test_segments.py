"""The nightly `segments` job: lifecycle at its 90- and 180-day edges, and RFM
scores against a per-member computation in Python."""

import datetime as dt
import random

import pytest

from batch.services import program_midnight
from campaigns.models import MemberSegment, RfmBounds, SegmentFacts
from campaigns.segments import RFM_WINDOW_DAYS, rfm_bounds
from shop.models import Order
from tests.factories import MemberFactory, OrderFactory
from tests.tiers.helpers import night

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2026, 11, 20)
MIDNIGHT = program_midnight(AS_OF)
SECOND = dt.timedelta(seconds=1)


def _days_before(n):
    return program_midnight(AS_OF - dt.timedelta(days=n))


def _member(joined_days_ago=400, last_order=None):
    member = MemberFactory(joined_at=_days_before(joined_days_ago))
    if last_order is not None:
        OrderFactory(member=member, placed_at=last_order)
    return member


def _segment(member):
    return MemberSegment.objects.get(member=member)


@pytest.mark.parametrize(
    ("last_order", "lifecycle"),
    [
        (MIDNIGHT - SECOND, "active"),
        (_days_before(60), "active"),
        (_days_before(60) - SECOND, "at_risk"),
        (_days_before(90), "at_risk"),
        (_days_before(90) - SECOND, "dormant"),
        (_days_before(180), "dormant"),
        (_days_before(180) - SECOND, "churned"),
    ],
)
def test_lifecycle_by_the_last_order_at_its_edges(last_order, lifecycle):
    member = _member(last_order=last_order)

    night("segments", AS_OF)

    assert _segment(member).lifecycle == lifecycle


@pytest.mark.parametrize(
    ("joined_at", "lifecycle"),
    [
        (_days_before(10), "new"),
        (_days_before(90), "new"),
        (_days_before(90) - SECOND, "dormant"),
        (_days_before(180), "dormant"),
        (_days_before(180) - SECOND, "churned"),
    ],
)
def test_a_member_who_never_ordered_goes_by_their_joining(joined_at, lifecycle):
    member = MemberFactory(joined_at=joined_at)

    night("segments", AS_OF)

    assert _segment(member).lifecycle == lifecycle
    assert (_segment(member).recency, _segment(member).orders) == (None, 0)


def test_a_recent_joiner_who_ordered_is_new_and_orders_after_the_night_do_not_count():
    joiner = _member(joined_days_ago=5, last_order=_days_before(2))
    later = _member(last_order=_days_before(100))
    OrderFactory(member=later, placed_at=MIDNIGHT)
    refunded = _member(last_order=_days_before(200))
    OrderFactory(member=refunded, placed_at=_days_before(1), total_minor=500, refunded_minor=500)

    night("segments", AS_OF)

    assert _segment(joiner).lifecycle == "new"
    assert _segment(later).lifecycle == "dormant"
    assert _segment(refunded).lifecycle == "churned"


def _ntile_bounds(values):
    """The highest value of each of NTILE(5)'s tiles 1-4 over `values` (None
    for an empty tile), by its definition: the first len % 5 tiles one longer."""
    values, result, end = sorted(values), [], 0
    size, extra = divmod(len(values), 5)
    for tile in range(4):
        count = size + (tile < extra)
        end += count
        result.append(values[end - 1] if count else None)
    return result


def _python_rfm():
    """Per member: (r, f, m) by NTILE(5)'s definition, from the orders in Python."""
    start = _days_before(RFM_WINDOW_DAYS)
    facts = {}
    for order in Order.objects.filter(placed_at__gte=start, placed_at__lt=MIDNIGHT):
        if order.total_minor <= order.refunded_minor:
            continue
        last, count, spend = facts.get(order.member_id, (order.placed_at, 0, 0))
        net = order.total_minor - order.refunded_minor
        facts[order.member_id] = (max(last, order.placed_at), count + 1, spend + net)

    def score(value, tile_bounds):
        return 1 + sum(1 for bound in tile_bounds if bound is not None and value > bound)

    columns = list(zip(*facts.values(), strict=True)) if facts else [(), (), ()]
    all_bounds = [_ntile_bounds(column) for column in columns]
    return {
        member_id: tuple(score(v, b) for v, b in zip(values, all_bounds, strict=True))
        for member_id, values in facts.items()
    }


@pytest.mark.parametrize("seed", [1, 2])
def test_rfm_scores_match_a_per_member_computation_on_random_data(seed):
    rng = random.Random(seed)
    members = [MemberFactory(joined_at=_days_before(800)) for _ in range(37)]
    for member in members:
        for _ in range(rng.choice([0, 1, 1, 2, 3, 5, 8])):
            total = rng.choice([1000, 2500, 2500, 9999, rng.randrange(100, 100_000)])
            OrderFactory(
                member=member,
                placed_at=MIDNIGHT
                - dt.timedelta(days=rng.randrange(0, 500), seconds=rng.randrange(1, 86400)),
                total_minor=total,
                refunded_minor=rng.choice([0, 0, 0, total // 3, total]),
            )
    expected = _python_rfm()

    night("segments", AS_OF, chunk_size=rng.choice([3, 7, 50]))

    scored = {
        s.member_id: (s.recency, s.frequency, s.monetary)
        for s in MemberSegment.objects.filter(recency__isnull=False)
    }
    assert len(expected) > 20
    assert scored == expected
    assert RfmBounds.objects.get(as_of=AS_OF).members == len(expected)
    assert MemberSegment.objects.count() == len(members)


@pytest.mark.parametrize("members", [0, 1, 3, 4, 5, 6, 9, 13, 101])
def test_the_bounds_are_the_highest_values_of_ntile_tiles_1_to_4(members):
    rng = random.Random(members)
    facts = [
        SegmentFacts(
            member_id=member_id,
            as_of=AS_OF,
            last_ever=MIDNIGHT - dt.timedelta(hours=rng.randrange(1, 48)),
            last_at=MIDNIGHT - dt.timedelta(hours=rng.randrange(1, 48)),
            n=rng.randrange(1, 4),
            spend=rng.choice([100, 250, 999, rng.randrange(1, 10_000)]),
        )
        for member_id in range(1, members + 1)
    ]
    SegmentFacts.objects.bulk_create(
        [*facts, SegmentFacts(member_id=0, as_of=AS_OF, last_ever=MIDNIGHT, n=0, spend=0)]
    )

    bounds = rfm_bounds(AS_OF)

    assert bounds.members == members
    assert [None if b is None else dt.datetime.fromisoformat(b) for b in bounds.recency] == (
        _ntile_bounds(f.last_at for f in facts)
    )
    assert bounds.frequency == _ntile_bounds(f.n for f in facts)
    assert bounds.monetary == _ntile_bounds(f.spend for f in facts)


def test_a_second_run_of_the_night_changes_nothing_and_a_later_night_moves_on():
    member = _member(last_order=_days_before(89))
    first = night("segments", AS_OF)
    assert first.counts["members_segmented"] == 1

    again = night("segments", AS_OF)
    night("segments", AS_OF + dt.timedelta(days=2))

    assert again.counts == {"chunks_skipped": 1}
    segment = _segment(member)
    assert (segment.lifecycle, segment.computed_on) == ("dormant", AS_OF + dt.timedelta(days=2))


def test_the_member_lookup_shows_the_segment_and_the_referral_code(api_client):
    member = _member(last_order=_days_before(3))
    fresh = _member()
    before = api_client.get(f"/api/v1/members/{member.number}").json()

    night("segments", AS_OF)
    body = api_client.get(f"/api/v1/members/{member.number}").json()

    assert before["segment"] is None
    assert body["referral_code"] == member.referral_code
    assert body["segment"] == {
        "lifecycle": "active",
        "rfm": {"r": 1, "f": 1, "m": 1},
        "computed_on": "2026-11-20",
    }
    assert api_client.get(f"/api/v1/members/{fresh.number}").json()["segment"]["rfm"] is None


def test_a_night_writes_only_the_members_whose_segment_changed(api_client):
    changing = _member(last_order=_days_before(89))  # at risk; dormant two nights on
    steady = _member(last_order=_days_before(500))  # churned, and stays so
    night("segments", AS_OF)
    later = AS_OF + dt.timedelta(days=2)

    run = night("segments", later)

    assert run.counts["members_segmented"] == 1
    assert _segment(changing).computed_on == later
    assert _segment(steady).computed_on == AS_OF
    body = api_client.get(f"/api/v1/members/{steady.number}").json()
    assert body["segment"]["computed_on"] == later.isoformat()


def test_the_orders_are_read_once_a_night_and_the_facts_rebuilt_when_lost():
    member = _member(last_order=_days_before(10))
    night("segments", AS_OF, chunk_size=1)
    assert SegmentFacts.objects.filter(as_of=AS_OF, member_id=member.pk).exists()
    MemberSegment.objects.all().delete()
    SegmentFacts.objects.all().delete()  # what a crash does to an unlogged table

    night("segments", AS_OF + dt.timedelta(days=1))

    assert _segment(member).lifecycle == "active"
    assert _segment(member).recency == 1
    assert set(SegmentFacts.objects.values_list("as_of", flat=True)) == {
        AS_OF + dt.timedelta(days=1)
    }
