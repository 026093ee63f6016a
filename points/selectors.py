"""Reads of the ledger."""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Subquery, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from batch.services import program_midnight, program_zone
from members.models import Member
from shop.money import parse_amount

from .models import Account, Entry, Lot


@dataclass(frozen=True)
class Balance:
    available: int
    pending: int
    debt: int
    lifetime_earned: int


def balance_get(*, member: Member) -> Balance:
    """The member's balance as they can spend it now. Points past their expiry
    that the nightly job has not expired yet are not counted: spending expires
    them first, so showing them would promise points that are gone (a frozen
    member's lots do not expire, and count)."""
    accounts = Account.objects.filter(member=member)
    if member.status != Member.Status.FROZEN:
        overdue = Lot.objects.filter(
            member=member, pending=False, remaining__gt=0, expires_at__lte=timezone.now()
        )
        accounts = accounts.annotate(
            overdue=Subquery(overdue.values("member").annotate(due=Sum("remaining")).values("due"))
        )
    account = accounts.first()
    if account is None:
        return Balance(available=0, pending=0, debt=0, lifetime_earned=0)
    return Balance(
        available=account.available - (getattr(account, "overdue", None) or 0),
        pending=account.pending,
        debt=account.debt,
        lifetime_earned=account.lifetime_earned,
    )


def points_value_minor(*, points: int) -> int:
    """What `points` are worth in minor units of the programme currency, rounded
    down (the programme's redemption value)."""
    value = parse_amount(settings.POINTS_REDEMPTION_VALUE, settings.PROGRAM_CURRENCY)
    return max(points, 0) * value // settings.POINTS_REDEMPTION_POINTS


@dataclass(frozen=True)
class Expiring:
    date: dt.date
    points: int


def points_expiring(*, member: Member, days: int | None = None) -> list[Expiring]:
    """Points that expire in the next `days` days, by the last day they can be
    used (the programme's day before the midnight they expire at): summed by day
    in the database, at most one row a day whatever the number of lots."""
    now = timezone.now()
    horizon = now + dt.timedelta(days=days or settings.POINTS_EXPIRY_WARNING_DAYS)
    rows = (
        Lot.objects.filter(
            member=member,
            pending=False,
            remaining__gt=0,
            expires_at__gt=now,
            expires_at__lte=horizon,
        )
        .annotate(day=TruncDate("expires_at", tzinfo=program_zone()))
        .values("day")
        .annotate(points=Sum("remaining"))
        .order_by("day")
    )
    # The last usable day is the day before the one the lot expires on (as
    # last_usable_day reckons it, on the programme's clock).
    return [Expiring(date=row["day"] - dt.timedelta(days=1), points=row["points"]) for row in rows]


def history_page(
    *,
    member: Member,
    before_id: int | None = None,
    limit: int = 20,
    kinds: list[str] | None = None,
    month: dt.date | None = None,
) -> tuple:
    """A page of the member's ledger, newest first, by keyset (`before_id` is the
    last id of the previous page): (entries, id to ask for the next page or None).
    `kinds`: only entries of these kinds; `month` (its first day): only entries
    effective in that month of the programme's calendar."""
    entries = Entry.objects.filter(member=member).order_by("-id")
    if kinds:
        entries = entries.filter(kind__in=kinds)
    if month is not None:
        following = (month.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        entries = entries.filter(
            effective_at__gte=program_midnight(month.replace(day=1)),
            effective_at__lt=program_midnight(following),
        )
    if before_id is not None:
        entries = entries.filter(id__lt=before_id)
    page = list(entries[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    return page, (page[-1].id if more else None)


def ledger_export(*, member: Member) -> list[dict[str, object]]:
    """Every entry of the member's ledger, oldest first, for their data export."""
    entries = Entry.objects.filter(member=member).order_by("id")
    return [
        {
            "kind": entry.kind,
            "points": entry.amount,
            "pending": entry.pending_change,
            "balance_after": entry.balance_after,
            "source": entry.source_type,
            "source_ref": entry.source_ref,
            "reason": entry.reason,
            "at": entry.effective_at.isoformat(),
        }
        for entry in entries.iterator(chunk_size=2000)
    ]
