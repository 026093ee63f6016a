"""Orders of one member arriving at once (PostgreSQL: real row locks)."""

import json

import pytest
from django.test import Client
from django.utils import timezone

from points.selectors import balance_get
from tests.concurrency import race
from tests.factories import ApiKeyFactory, MemberFactory, ledger_is_clean
from tiers.models import MemberTier, TierChange, TierNotice

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_ten_orders_at_once_crossing_silver_together_upgrade_once():
    member, key = MemberFactory(), ApiKeyFactory()
    placed = timezone.now().isoformat()

    def send(i):
        client = Client(headers={"Authorization": f"Bearer {key.plaintext}"})
        body = {
            "order_id": f"race-{i}",
            "member": member.number,
            "placed_at": placed,
            "currency": "CNY",
            "total": "100.00",
        }
        return client.post("/api/v1/orders", json.dumps(body), content_type="application/json")

    responses = race(10, send)

    assert [r.status_code for r in responses] == [201] * 10
    assert sorted(r.json()["points"] for r in responses) == [100] * 9 + [120]
    assert MemberTier.objects.get(pk=member.pk).tier.code == "silver"
    assert list(TierChange.objects.values_list("reason", flat=True)) == ["upgrade"]
    assert TierNotice.objects.filter(kind="upgrade").count() == 1
    assert balance_get(member=member).pending == 1020
    assert ledger_is_clean()
