"""Points written by the ledger's one write path, counted once committed (the
nightly set-based release and expiry are reported by their jobs' counts)."""

from django.db import transaction
from prometheus_client import Counter

from .models import Entry

POINTS_WRITTEN = Counter(
    "loyalty_points", "Points moved by committed ledger entries, by entry kind.", ["kind"]
)


def points_count(*, kind: str, amount: int, pending_change: int) -> None:
    """Count the points an entry moves when the transaction writing it commits: a
    release moves points from pending to available, and counts them once."""
    points = abs(amount) if kind == Entry.Kind.RELEASE else abs(amount) + abs(pending_change)
    if points:
        transaction.on_commit(lambda: POINTS_WRITTEN.labels(kind).inc(points))
