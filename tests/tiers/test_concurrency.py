"""Orders of one member arriving at once (PostgreSQL: real row locks)."""

import json
import threading

import pytest
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from notifications.models import Message
from points.selectors import balance_get
from tests.concurrency import race
from tests.factories import ApiKeyFactory, MemberFactory, ledger_is_clean
from tiers.models import MemberTier, TierChange
from tiers.services import lock_state

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
    assert Message.objects.filter(template="tiers.upgrade").count() == 1
    assert balance_get(member=member).pending == 1020
    assert ledger_is_clean()


def test_one_members_order_does_not_hold_up_another_members_of_the_same_tier():
    """The tier-state lock is the member's row alone, not the tier row every
    member of that tier points at: while one member's order transaction is open,
    another member of the same tier locks their own state at once."""
    first, second = MemberFactory(), MemberFactory()
    holding, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                lock_state(member_id=first.pk)
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(10)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '1s'")
            state = lock_state(member_id=second.pk)
        assert state.tier.code == "member"
    finally:
        release.set()
        holder.join()
