"""The ledger's invariants, checked set-based over all members (`manage.py
ledger_audit`). Each check returns the member numbers that break it."""

from django.db.models import F, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Greatest

from batch.models import JobRun, Status
from batch.services import program_midnight
from members.models import Member

from .models import Account, Entry, Lot


def _sum(queryset: object, field: str) -> Coalesce:
    return Coalesce(
        Subquery(
            queryset.filter(member_id=OuterRef("member_id"))  # type: ignore[attr-defined]
            .values("member_id")
            .annotate(total=Sum(field))
            .values("total"),
            output_field=IntegerField(),
        ),
        Value(0),
    )


def _numbers(accounts: object) -> list[str]:
    return sorted(accounts.values_list("member__number", flat=True))  # type: ignore[attr-defined]


def audit_balances_match_entries() -> list[str]:
    accounts = Account.objects.annotate(
        entries_available=_sum(Entry.objects, "amount"),
        entries_pending=_sum(Entry.objects, "pending_change"),
        last_balance=Subquery(
            Entry.objects.filter(member_id=OuterRef("member_id"))
            .order_by("-id")
            .values("balance_after")[:1]
        ),
    )
    return _numbers(
        accounts.filter(
            ~Q(available=F("entries_available"))
            | ~Q(pending=F("entries_pending"))
            | ~Q(available=Coalesce(F("last_balance"), Value(0)))
        )
    )


def audit_balances_match_lots() -> list[str]:
    accounts = Account.objects.annotate(
        lots_pending=_sum(Lot.objects.filter(pending=True), "remaining"),
        lots_available=_sum(Lot.objects.filter(pending=False), "remaining"),
    )
    return _numbers(
        accounts.filter(
            ~Q(pending=F("lots_pending")) | ~Q(lots_available=Greatest(F("available"), Value(0)))
        )
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
