"""The shop's models moved from members to shop: their rows stay."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [
    ("members", "0004_order_spend_index"),
    ("campaigns", "0001_initial"),
    ("points", "0003_redemption"),
    ("tiers", "0002_default_tiers"),
    ("shop", None),
]
AFTER = [("members", "0005_shop_models_moved"), ("shop", "0001_initial")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state([t for t in targets if t[1] is not None]).apps


@pytest.fixture
def _back_to_latest():
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_back_to_latest")
def test_orders_refunds_and_keys_keep_their_rows_when_moved_to_the_shop_app():
    old = _migrate(BEFORE)
    now = timezone.now()
    user = old.get_model("members", "User").objects.create(email="a@example.com")
    member = old.get_model("members", "Member").objects.create(
        user=user, number="M00000001", referral_code="ABCDEFGH"
    )
    key = old.get_model("members", "ApiKey").objects.create(
        name="Shop", prefix="abcd1234", key_hash="h"
    )
    order = old.get_model("members", "Order").objects.create(
        order_id="1001",
        member=member,
        placed_at=now,
        currency="CNY",
        total_minor=10000,
        refunded_minor=1000,
        api_key=key,
        fingerprint="f",
    )
    old.get_model("members", "Refund").objects.create(
        refund_id="R-1", order=order, amount_minor=1000, api_key=key, fingerprint="f"
    )
    old.get_model("campaigns", "OrderPoints").objects.create(order=order, points=100)

    new = _migrate(AFTER)

    moved = new.get_model("shop", "Order").objects.get(order_id="1001")
    assert (moved.member_id, moved.total_minor, moved.refunded_minor) == (member.pk, 10000, 1000)
    assert moved.api_key.name == "Shop"
    refund = new.get_model("shop", "Refund").objects.get(refund_id="R-1")
    assert refund.order_id == moved.pk
    assert new.get_model("campaigns", "OrderPoints").objects.get(order=moved).points == 100
    tables = connection.introspection.table_names()
    assert "shop_order" in tables
    assert "members_order" not in tables
