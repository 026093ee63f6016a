"""What the member lookup of the shop API says about tiers, spend and paid plans."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from tests.factories import MemberFactory, UserFactory, order_place
from tiers.models import PaidPlan, Tier
from tiers.services import tier_override

from .helpers import NOW, local, recalc

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


@pytest.fixture
def plus():
    return PaidPlan.objects.create(
        code="plus",
        name="Plus",
        sku="PLUS-1Y",
        price_minor=19_900,
        duration_days=365,
        extra_multiplier=Decimal("0.5"),
        free_shipping=True,
        early_access=True,
    )


def lookup(api_client, member):
    response = api_client.get(f"/api/v1/members/{member.number}")
    assert response.status_code == 200
    return response.json()


def test_lookup_shows_the_tier_spend_next_tier_and_paid_plan(api_client, plus):
    member = MemberFactory()
    order_place(member, 169_900, lines=[("TEA-1", 1, 150_000), ("PLUS-1Y", 1, 19_900)])

    body = lookup(api_client, member)

    assert body["tier"] == {
        "code": "silver",
        "name": "Silver",
        "multiplier": "1.20",
        "benefits": {
            "discount_percent": 2,
            "free_shipping": False,
            "priority_support": False,
            "birthday_gift": True,
            "early_access": False,
        },
        "since": NOW.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "grace_until": None,
        "held_until": None,
    }
    assert body["spend"] == {
        "window_days": 365,
        "since": "2025-06-11",
        "amount": "1699.00",
        "currency": "CNY",
        "orders": 1,
        "next_tier": {"code": "gold", "name": "Gold", "spend_left": "3301.00", "orders_left": 0},
    }
    assert body["paid_plan"] == {
        "code": "plus",
        "name": "Plus",
        "ends_at": (NOW + dt.timedelta(days=365))
        .astimezone(dt.UTC)
        .isoformat()
        .replace("+00:00", "Z"),
        "extra_multiplier": "0.50",
        "benefits": {
            "discount_percent": 0,
            "free_shipping": True,
            "priority_support": False,
            "birthday_gift": False,
            "early_access": True,
        },
    }
    assert body["earn_multiplier"] == "1.70"


def test_lookup_shows_grace_and_an_override(api_client):
    in_grace = MemberFactory()
    with time_machine.travel(local(2025, 6, 1), tick=False):
        order_place(in_grace, 100_000, placed_at=local(2025, 6, 1))
    recalc(dt.date(2026, 6, 10))
    held = MemberFactory()
    tier_override(
        member=held,
        tier=Tier.objects.get(code="diamond"),
        until=dt.date(2026, 9, 30),
        reason="launch partner",
        actor=UserFactory(is_staff=True),
    )

    grace = lookup(api_client, in_grace)["tier"]
    override = lookup(api_client, held)
    assert (grace["code"], grace["grace_until"]) == ("silver", "2026-07-10")
    assert (override["tier"]["code"], override["tier"]["held_until"]) == ("diamond", "2026-09-30")
    assert override["earn_multiplier"] == "2.00"
    assert override["spend"]["next_tier"] is None
