from decimal import Decimal

import pytest
import time_machine

from tests.factories import MemberFactory, ledger_is_clean, order_place
from tiers.models import PaidPlan, Tier


@pytest.fixture(autouse=True)
def _ledger_stays_clean(request, db):
    yield
    assert ledger_is_clean(), "ledger invariants broken after the test"


@pytest.fixture
def frozen_now():
    """The clock stopped at NOW (use with pytest.mark.usefixtures)."""
    from .helpers import NOW

    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def tiers(db):
    """The default tiers of the data migration, by code."""
    return {tier.code: tier for tier in Tier.objects.all()}


@pytest.fixture
def promoted(tiers):
    """A member who reached tier `code` at once by an order of exactly its
    threshold, placed (and reported) at `at`."""

    def make(code, at, **member_fields):
        member = MemberFactory(**member_fields)
        with time_machine.travel(at, tick=False):
            order_place(member, tiers[code].threshold_minor, placed_at=at)
        return member

    return make


@pytest.fixture
def plan(db):
    """A yearly paid plan bought by the SKU `SKU`."""
    from .helpers import SKU

    return PaidPlan.objects.create(
        code="plus",
        name="Plus",
        sku=SKU,
        price_minor=19_900,
        duration_days=365,
        extra_multiplier=Decimal("0.5"),
    )
