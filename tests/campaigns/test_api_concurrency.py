"""Idempotency of the API's writes under real concurrency (PostgreSQL)."""

import json

import pytest
from django.test import Client
from django.utils import timezone

from points.models import Entry
from points.selectors import balance_get
from shop.models import Order
from tests.concurrency import race
from tests.factories import ApiKeyFactory, MemberFactory, ledger_is_clean

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _order(member, total="100.00"):
    return {
        "order_id": "race-1",
        "member": member.number,
        "placed_at": timezone.now().isoformat(),
        "currency": "CNY",
        "total": total,
    }


def test_twenty_identical_orders_at_once_have_one_effect():
    member, key = MemberFactory(), ApiKeyFactory()
    body = json.dumps(_order(member))

    def send(_):
        client = Client(headers={"Authorization": f"Bearer {key.plaintext}"})
        return client.post("/api/v1/orders", body, content_type="application/json")

    responses = race(20, send)

    assert sorted(r.status_code for r in responses) == [200] * 19 + [201]
    assert len({r.content for r in responses}) == 1
    assert Order.objects.count() == 1
    assert Entry.objects.count() == 1
    assert balance_get(member=member).pending == 100
    assert ledger_is_clean()


def test_a_conflicting_order_body_is_409_and_writes_nothing():
    member, key = MemberFactory(), ApiKeyFactory()
    client = Client(headers={"Authorization": f"Bearer {key.plaintext}"})
    client.post("/api/v1/orders", json.dumps(_order(member)), content_type="application/json")

    def send(i):
        other = Client(headers={"Authorization": f"Bearer {key.plaintext}"})
        body = json.dumps(_order(member, total=f"{200 + i}.00"))
        return other.post("/api/v1/orders", body, content_type="application/json")

    responses = race(10, send)

    assert {r.status_code for r in responses} == {409}
    assert Entry.objects.count() == 1
    assert balance_get(member=member).pending == 100


def test_twenty_identical_redemptions_at_once_spend_once():
    from points.services import Source, points_earn

    member, key = MemberFactory(), ApiKeyFactory()
    points_earn(member=member, points=5000, source=Source("order", "seed"), key="seed")
    body = json.dumps({"member": member.number, "points": 1000, "idempotency_key": "pay-1"})

    def send(_):
        client = Client(headers={"Authorization": f"Bearer {key.plaintext}"})
        return client.post("/api/v1/redemptions", body, content_type="application/json")

    responses = race(20, send)

    assert sorted(r.status_code for r in responses) == [200] * 19 + [201]
    assert balance_get(member=member).available == 4000
    assert ledger_is_clean()
