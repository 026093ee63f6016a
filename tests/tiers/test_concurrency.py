"""Orders of one member arriving at once (PostgreSQL: real row locks)."""

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from points.selectors import balance_get
from tests.factories import ApiKeyFactory, MemberFactory, ledger_is_clean
from tiers.models import MemberTier, TierChange, TierNotice

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(count, work):
    barrier = threading.Barrier(count)

    def run(i):
        barrier.wait()
        try:
            return work(i)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


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

    responses = _race(10, send)

    assert [r.status_code for r in responses] == [201] * 10
    assert sorted(r.json()["points"] for r in responses) == [100] * 9 + [120]
    assert MemberTier.objects.get(pk=member.pk).tier.code == "silver"
    assert list(TierChange.objects.values_list("reason", flat=True)) == ["upgrade"]
    assert TierNotice.objects.filter(kind="upgrade").count() == 1
    assert balance_get(member=member).pending == 1020
    assert ledger_is_clean()
