"""The ledger's invariants, checked set-based over all members (`manage.py
ledger_audit`). Each check returns the member numbers that break it."""

from django.db import connection
from django.db.models import F, Q

from batch.models import JobRun, Status
from batch.services import program_midnight
from members.models import Member

from .ledger_sql import ACCOUNT, ENTRY, LOT, MEMBER
from .models import Account, Lot


def _numbers(accounts: object) -> list[str]:
    return sorted(accounts.values_list("member__number", flat=True))  # type: ignore[attr-defined]


def _mismatched(totals: str, differs: str) -> list[str]:
    """The numbers of the members whose account `differs` from their `totals`
    (a query grouped by member_id, as `t`): the table summed in one pass and
    joined to the accounts, so that the check reads each table once whatever
    the planner thinks of it (summed per account, a stale estimate had it scan
    every pending lot once per account: minutes for 20,000 members)."""
    sql = f"""
        SELECT m.number
        FROM {ACCOUNT} a
        JOIN {MEMBER} m ON m.id = a.member_id
        LEFT JOIN ({totals}) t ON t.member_id = a.member_id
        WHERE {differs}
        ORDER BY m.number
    """  # noqa: S608 - the table names are the models', the two parts this module's
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [number for (number,) in cursor.fetchall()]


def audit_balances_match_entries() -> list[str]:
    """The balances equal the sums of the entries, and the available balance the
    `balance_after` of the member's last entry."""
    return _mismatched(
        f"""
        SELECT e.member_id, e.available, e.pending, last.balance_after
        FROM (
            SELECT member_id, SUM(amount) AS available, SUM(pending_change) AS pending,
                   MAX(id) AS last_id
            FROM {ENTRY} GROUP BY member_id
        ) e
        JOIN {ENTRY} last ON last.id = e.last_id
        """,  # noqa: S608 - the table name is the model's
        """
        a.available <> COALESCE(t.available, 0)
        OR a.pending <> COALESCE(t.pending, 0)
        OR a.available <> COALESCE(t.balance_after, 0)
        """,
    )


def audit_balances_match_lots() -> list[str]:
    """The pending balance equals the pending lots' remaining points, and the
    available one (when not in debt) the other lots'."""
    return _mismatched(
        f"""
        SELECT member_id,
               SUM(CASE WHEN pending THEN remaining ELSE 0 END) AS pending,
               SUM(CASE WHEN pending THEN 0 ELSE remaining END) AS available
        FROM {LOT} GROUP BY member_id
        """,  # noqa: S608 - the table name is the model's
        """
        a.pending <> COALESCE(t.pending, 0)
        OR COALESCE(t.available, 0) <> CASE WHEN a.available > 0 THEN a.available ELSE 0 END
        """,
    )


def audit_lots_within_bounds() -> list[str]:
    bad = Lot.objects.filter(Q(remaining__lt=0) | Q(remaining__gt=F("original")))
    return _numbers(Account.objects.filter(member_id__in=bad.values("member_id")))


def audit_no_expired_points_left() -> list[str]:
    """No lot that the last finished expiry run should have expired has points."""
    last = (
        JobRun.objects.filter(job="expire_points", status=Status.SUCCEEDED)
        .order_by("-as_of")
        .first()
    )
    if last is None:
        return []
    stale = Lot.objects.filter(
        pending=False, remaining__gt=0, expires_at__lte=program_midnight(last.as_of)
    ).exclude(member__status=Member.Status.FROZEN)  # a frozen member's points do not expire
    return _numbers(Account.objects.filter(member_id__in=stale.values("member_id")))


CHECKS = {
    "balance equals the sum of its entries": audit_balances_match_entries,
    "balance equals the remaining of its lots": audit_balances_match_lots,
    "lot remaining between 0 and original": audit_lots_within_bounds,
    "no expired lot keeps points": audit_no_expired_points_left,
}
