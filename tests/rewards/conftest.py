import itertools

import pytest

from points.models import Entry
from points.services import Source, points_earn
from rewards.models import Reward
from tests.factories import MemberFactory, ledger_is_clean

_numbers = itertools.count()


@pytest.fixture(autouse=True)
def _ledger_stays_clean(request, db):
    yield
    assert ledger_is_clean(), "ledger invariants broken after the test"


def member_with_points(points=0, **kwargs):
    member = MemberFactory(**kwargs)
    if points:
        points_earn(
            member=member,
            points=points,
            source=Source(Entry.Source.STAFF, "seed"),
            key=f"seed-{next(_numbers)}",
        )
    return member


def make_reward(**kwargs):
    fields = {
        "code": f"reward-{next(_numbers)}",
        "name": "10 yuan off",
        "kind": Reward.Kind.COUPON,
        "points": 1000,
        "coupon": {"kind": "amount", "value": "10.00", "min_spend": "50.00", "valid_days": 30},
        **kwargs,
    }
    return Reward.objects.create(**fields)


@pytest.fixture
def member(db):
    return member_with_points(5000)
