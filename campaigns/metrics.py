"""Orders recorded, counted once committed (a replay of an order is not counted)."""

from django.db import transaction
from prometheus_client import Counter

ORDERS_RECORDED = Counter("loyalty_orders", "Orders recorded (new ones, not replays).")


def orders_count() -> None:
    transaction.on_commit(ORDERS_RECORDED.inc)
