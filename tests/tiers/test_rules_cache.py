"""Each process keeps the tiers and plans it read (every order reads them): a
change made in this process is felt at once, one made in another process within
RULES_CACHE_SECONDS."""

import time
from decimal import Decimal
from types import SimpleNamespace

import pytest

from tiers import selectors
from tiers.models import PaidPlan, Tier
from tiers.selectors import qualified_tier, tier_rules

pytestmark = pytest.mark.django_db


def test_a_tier_saved_here_is_felt_at_once(tiers):
    assert qualified_tier(spend_minor=90_000, orders=1).code == "member"

    tiers["silver"].threshold_minor = 90_000
    tiers["silver"].save()

    assert qualified_tier(spend_minor=90_000, orders=1).code == "silver"


def test_a_tier_changed_elsewhere_is_felt_within_seconds(tiers, monkeypatch):
    assert qualified_tier(spend_minor=90_000, orders=1).code == "member"
    Tier.objects.filter(code="silver").update(threshold_minor=90_000)  # another process
    assert qualified_tier(spend_minor=90_000, orders=1).code == "member"  # kept, for now

    later = time.monotonic() + selectors.RULES_CACHE_SECONDS
    monkeypatch.setattr(selectors, "time", SimpleNamespace(monotonic=lambda: later))

    assert qualified_tier(spend_minor=90_000, orders=1).code == "silver"


def test_a_plan_put_on_sale_here_is_felt_at_once():
    assert "PLUS-1Y" not in tier_rules().plans_on_sale

    PaidPlan.objects.create(
        code="plus", name="Plus", sku="PLUS-1Y", price_minor=9_900, extra_multiplier=Decimal("0.5")
    )

    assert tier_rules().plans_on_sale["PLUS-1Y"].code == "plus"
