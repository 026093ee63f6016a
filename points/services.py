"""The only write path of the points ledger.

Every function is atomic and locks the member's balance row (`Account`) first, so
one member's operations run one at a time; the entry and the balance are written
together. Each operation carries an idempotency key, unique per member: the same
key again returns the first entry, the same key with other arguments raises
`IdempotencyConflict`. Under the lock, the insert of the entry finds an earlier
one by the unique constraint on (member, key) and then writes nothing (`_write`);
an operation that would refuse, or answer or write anything before its entry,
looks the key up first (`_refuse`, `_replay`), so a replay always gets the first
entry.
"""

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import F, Sum
from django.utils import timezone

from members.models import Member, User

from .errors import (
    AlreadyCancelled,
    EmailNotVerified,
    IdempotencyConflict,
    InsufficientPoints,
    InvalidPoints,
    MemberInactive,
    NotAllowed,
    PointsError,
)
from .expiry import lot_expires_at
from .ledger_sql import (
    NIGHTLY_FINGERPRINT,
    Balance,
    SpendableLot,
    expire_due_lots,
    has_entry_with_key,
    insert_lot,
    lock_balance,
    lock_balance_with_lots,
    spendable_lots,
    take_from_lots,
    write_entry,
)
from .metrics import points_count
from .models import Account, Entry, Lot

MAX_POINTS = 10**12
Kind = Entry.Kind


@dataclass(frozen=True)
class Source:
    """What an entry is for: `Source(Entry.Source.ORDER, "1001")`."""

    type: str
    ref: str = ""


def fingerprint_of(**arguments: object) -> str:
    text = json.dumps(arguments, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _check_points(points: int, *, allow_negative: bool = False) -> None:
    if isinstance(points, bool) or not isinstance(points, int):
        raise InvalidPoints("Points must be a whole number.")
    if points == 0 or abs(points) > MAX_POINTS or (points < 0 and not allow_negative):
        raise InvalidPoints(f"{points} is not a valid number of points.")


def lock_account(*, member_id: int) -> Account:
    """The member's balance row, locked until the transaction ends (created on
    first use), with the member's current record on `account.member` (read in
    the same query; the member row itself is not locked). For work beside the
    ledger's; the services themselves take the lock with `_lock`."""
    locked = Account.objects.select_for_update(of=("self",)).select_related("member")
    try:
        return locked.get(member_id=member_id)
    except Account.DoesNotExist:
        Account.objects.get_or_create(member_id=member_id)
        return locked.get(member_id=member_id)


def _lock(cursor: CursorWrapper, member_id: int) -> Balance:
    """The member's balance row, locked until the transaction ends (created on
    first use), with the member's standing, in one statement (plain SQL:
    points/ledger_sql.py says why)."""
    balance = lock_balance(cursor, member_id)
    return balance if balance is not None else Balance.of(lock_account(member_id=member_id))


def _replay(cursor: CursorWrapper, *, member_id: int, key: str, fingerprint: str) -> Entry | None:
    """The entry an earlier call with this key wrote, if any (we hold the lock)."""
    if not has_entry_with_key(cursor, member_id, key):
        return None
    return _earlier_entry(member_id=member_id, key=key, fingerprint=fingerprint)


def _earlier_entry(*, member_id: int, key: str, fingerprint: str) -> Entry:
    """The member's entry with this key, if the call that wrote it had the same
    arguments (`fingerprint`)."""
    entry = Entry.objects.get(member_id=member_id, idempotency_key=key)
    if entry.fingerprint != fingerprint:
        raise IdempotencyConflict(f"Idempotency key {key!r} was used with other arguments.")
    return entry


def _refuse(
    cursor: CursorWrapper, refusal: PointsError, *, member_id: int, key: str, fingerprint: str
) -> Entry:
    """Raise `refusal`, unless an earlier call with this key wrote an entry: a
    replay is answered with that entry, never refused."""
    if (earlier := _replay(cursor, member_id=member_id, key=key, fingerprint=fingerprint)) is None:
        raise refusal
    return earlier


def _write(
    cursor: CursorWrapper,
    balance: Balance,
    *,
    kind: str,
    amount: int,
    pending_change: int = 0,
    source: Source,
    key: str,
    fingerprint: str,
    actor: User | None = None,
    reason: str = "",
    reverses: Entry | None = None,
    effective_at: dt.datetime | None = None,
    taking: list[tuple[int, int]] | None = None,
) -> tuple[Entry, bool]:
    """Insert the entry and move the balance: (entry, True). When the member has
    an entry with this key already, nothing is written: (that entry, False), or
    IdempotencyConflict if it was written for other arguments."""
    now = timezone.now()
    balance.available += amount
    balance.pending += pending_change
    if kind in (Kind.EARN, Kind.PENDING):
        balance.lifetime_earned += amount + pending_change
    entry = Entry(
        member_id=balance.member_id,
        kind=kind,
        amount=amount,
        pending_change=pending_change,
        balance_after=balance.available,
        pending_after=balance.pending,
        source_type=source.type,
        source_ref=source.ref,
        idempotency_key=key,
        fingerprint=fingerprint,
        actor=actor,
        reason=reason,
        reverses=reverses,
        effective_at=effective_at or now,
        created_at=now,
    )
    # No savepoint: the insert does nothing on the unique key (ON CONFLICT), and
    # with the balance row locked no other insert of the key can be under way.
    entry_id = write_entry(cursor, balance, now=now, entry=entry, taking=taking)
    if entry_id is None:
        return _earlier_entry(member_id=balance.member_id, key=key, fingerprint=fingerprint), False
    entry.id = entry_id
    points_count(kind=kind, amount=amount, pending_change=pending_change)
    entry._state.adding = False  # as Entry.objects.create() leaves it
    entry._state.db = connection.alias
    return entry, True


def _credit_lots(account_available_before: int, pieces: list[tuple[Lot | None, int]]) -> list:
    """Points coming back to an account repay its debt first: return `pieces` less
    the debt, taken from the front."""
    debt = max(0, -account_available_before)
    credited = []
    for lot, points in pieces:
        repaid = min(debt, points)
        debt -= repaid
        if points - repaid:
            credited.append((lot, points - repaid))
    return credited


def _takes(lots: Iterable[Lot | SpendableLot], points: int) -> tuple[list[tuple[int, int]], int]:
    """(lot id, points) to take up to `points` from `lots` in their order, and how
    many could not be taken."""
    taken = []
    for lot in lots:
        if points == 0:
            break
        if points_from_lot := min(lot.remaining, points):
            taken.append((lot.id, points_from_lot))
            points -= points_from_lot
    return taken, points


def _take_from_lots(
    cursor: CursorWrapper, entry: Entry, lots: Iterable[Lot | SpendableLot], points: int
) -> int:
    """Take up to `points` from `lots` in their order, recording each use against
    `entry`; return how many could not be taken."""
    taken, short = _takes(lots, points)
    if taken:
        take_from_lots(cursor, entry.id, taken)
    return short


def points_earn(
    *,
    member: Member,
    points: int,
    source: Source,
    key: str,
    available_from: dt.datetime | None = None,
    effective_at: dt.datetime | None = None,
    actor: User | None = None,
    reason: str = "",
    locked: Balance | None = None,
) -> Entry:
    """Credit earned points: available now (an `earn` entry and a lot), or pending
    until `available_from` (a `pending` entry and a pending lot the nightly
    release turns available). Earned points repay a debt first. `effective_at`
    is when what earned them happened (an order's placed_at), if not now.

    `locked`: the member's balance row as the caller locked it, earlier in the
    transaction it calls from (an order locks it with the member's tier state in
    one statement, campaigns/order_sql.py). The points are then written in that
    transaction with no second lock and no savepoint: a refusal undoes it all."""
    _check_points(points)
    now = timezone.now()
    pending = available_from is not None and available_from > now
    starts = available_from if pending and available_from else now
    fingerprint = fingerprint_of(
        op="earn", points=points, source=source, pending=pending, reason=reason
    )
    with transaction.atomic(savepoint=locked is None), connection.cursor() as cursor:
        balance = locked or _lock(cursor, member.pk)
        if balance.member_status != Member.Status.ACTIVE:
            inactive = MemberInactive(f"Member {member.number} is {member.status} and cannot earn.")
            return _refuse(cursor, inactive, member_id=member.pk, key=key, fingerprint=fingerprint)
        before = balance.available
        entry, written = _write(
            cursor,
            balance,
            kind=Kind.PENDING if pending else Kind.EARN,
            amount=0 if pending else points,
            pending_change=points if pending else 0,
            source=source,
            key=key,
            fingerprint=fingerprint,
            actor=actor,
            reason=reason,
            effective_at=effective_at,
        )
        if not written:
            return entry
        credited = [(None, points)] if pending else _credit_lots(before, [(None, points)])
        insert_lot(
            cursor,
            member_id=member.pk,
            entry_id=entry.id,
            original=points,
            remaining=credited[0][1] if credited else 0,
            pending=pending,
            available_from=starts,
            expires_at=lot_expires_at(starts),
        )
    return entry


def points_release(*, member: Member, cutoff: dt.datetime, key: str) -> Entry | None:
    """Make the member's pending lots due by `cutoff` available, as one `release`
    entry (repaying a debt first). None when nothing was due."""
    with transaction.atomic(), connection.cursor() as cursor:
        balance = _lock(cursor, member.pk)
        due = list(
            Lot.objects.filter(
                member_id=member.pk, pending=True, available_from__lte=cutoff
            ).order_by("available_from", "id")
        )
        points = sum(lot.remaining for lot in due)
        fingerprint = NIGHTLY_FINGERPRINT
        if (
            earlier := _replay(cursor, member_id=member.pk, key=key, fingerprint=fingerprint)
        ) is not None:
            return earlier
        if not points:
            Lot.objects.filter(pk__in=[lot.pk for lot in due]).update(pending=False)
            return None
        before = balance.available
        entry, _ = _write(
            cursor,
            balance,
            kind=Kind.RELEASE,
            amount=points,
            pending_change=-points,
            source=Source(Entry.Source.SYSTEM, "release"),
            key=key,
            fingerprint=fingerprint,
        )
        credited = dict(_credit_lots(before, [(lot, lot.remaining) for lot in due]))
        for lot in due:
            Lot.objects.filter(pk=lot.pk).update(
                pending=False, remaining=credited.get(lot, 0), released_by=entry
            )
    return entry


def _spending_refusal(balance: Balance) -> PointsError | None:
    if balance.member_status != Member.Status.ACTIVE:
        return MemberInactive(
            f"Member {balance.member_number} is {balance.member_status} and cannot redeem."
        )
    if not balance.email_verified:
        return EmailNotVerified("The member must verify their e-mail address before redeeming.")
    return None


def points_redeem(
    *,
    member: Member,
    points: int,
    source: Source,
    key: str,
    actor: User | None = None,
    reason: str = "",
) -> Entry:
    """Spend available points, taking them from the lots that expire first. Refused
    (nothing written) when the member has fewer points, or is in debt."""
    _check_points(points)
    fingerprint = fingerprint_of(op="redeem", points=points, source=source)
    with transaction.atomic(), connection.cursor() as cursor:
        now = timezone.now()
        locked, lots = lock_balance_with_lots(cursor, member.pk, points, cutoff=now)
        if locked is None:  # the member's first use of the ledger
            locked = _lock(cursor, member.pk)
        balance = locked
        if (refusal := _spending_refusal(balance)) is not None:
            return _refuse(cursor, refusal, member_id=member.pk, key=key, fingerprint=fingerprint)
        if lots and lots[0].due:
            # Lots past their expiry that the nightly job has not expired yet come
            # first: they are expired here (a replay writes nothing), never spent.
            if (
                earlier := _replay(cursor, member_id=member.pk, key=key, fingerprint=fingerprint)
            ) is not None:
                return earlier
            expire_due_lots(first_id=member.pk, last_id=member.pk, cutoff=now, locked=True)
            balance = _lock(cursor, member.pk)
            lots = spendable_lots(cursor, member.pk, points, cutoff=now)
        if balance.available < points:
            short_of_points = InsufficientPoints(
                f"Member {member.number} has {max(balance.available, 0)} points; "
                f"{points} were asked for."
            )
            return _refuse(
                cursor, short_of_points, member_id=member.pk, key=key, fingerprint=fingerprint
            )
        taken, short = _takes(lots, points)
        if short:
            raise AssertionError(f"ledger out of balance for member {member.pk}: lots short")
        entry, _written = _write(
            cursor,
            balance,
            kind=Kind.REDEEM,
            amount=-points,
            source=source,
            key=key,
            fingerprint=fingerprint,
            actor=actor,
            reason=reason,
            taking=taken,
        )
    return entry


def points_cancel_redemption(
    *,
    redemption: Entry,
    key: str,
    actor: User | None = None,
    reason: str = "",
) -> Entry:
    """Give back what a redemption took: to the lots it took them from, or, where
    a lot has expired meanwhile, to a new lot. A debt is repaid first."""
    if redemption.kind != Kind.REDEEM:
        raise InvalidPoints("Only a redemption can be cancelled.")
    fingerprint = fingerprint_of(op="cancel", redemption=redemption.pk)
    with transaction.atomic(), connection.cursor() as cursor:
        balance = _lock(cursor, redemption.member_id)
        if Entry.objects.filter(reverses=redemption, kind=Kind.CANCEL).exists():
            cancelled = AlreadyCancelled("This redemption is already cancelled.")
            return _refuse(
                cursor,
                cancelled,
                member_id=redemption.member_id,
                key=key,
                fingerprint=fingerprint,
            )
        before = balance.available
        points = -redemption.amount
        entry, written = _write(
            cursor,
            balance,
            kind=Kind.CANCEL,
            amount=points,
            source=Source(redemption.source_type, redemption.source_ref),
            key=key,
            fingerprint=fingerprint,
            actor=actor,
            reason=reason,
            reverses=redemption,
        )
        if not written:
            return entry
        now = timezone.now()
        uses = list(redemption.lot_uses.select_related("lot").order_by("-lot__expires_at"))
        for lot, given in _credit_lots(before, [(use.lot, use.points) for use in uses]):
            if lot.expires_at > now:
                Lot.objects.filter(pk=lot.pk).update(remaining=F("remaining") + given)
            else:
                insert_lot(
                    cursor,
                    member_id=redemption.member_id,
                    entry_id=entry.id,
                    original=given,
                    remaining=given,
                    pending=False,
                    available_from=now,
                    expires_at=lot_expires_at(now),
                )
    return entry


def points_reverse(
    *,
    member: Member,
    of_source: Source,
    points: int,
    source: Source,
    key: str,
    reason: str = "",
) -> Entry | None:
    """Take back `points` that `of_source` (an order, an event) earned: pending
    points first, then available ones (the source's own lots first, then the lots
    that expire first), and what is left becomes a debt. Never more than the
    source earned, less what was reversed before. None when there is nothing to
    reverse (the source earned nothing)."""
    _check_points(points)
    fingerprint = fingerprint_of(op="reverse", of_source=of_source, points=points, source=source)
    with transaction.atomic(), connection.cursor() as cursor:
        balance = _lock(cursor, member.pk)
        if (
            earlier := _replay(cursor, member_id=member.pk, key=key, fingerprint=fingerprint)
        ) is not None:
            return earlier
        earnings = Entry.objects.filter(
            member_id=member.pk,
            source_type=of_source.type,
            source_ref=of_source.ref,
            kind__in=[Kind.EARN, Kind.PENDING],
        )
        first = earnings.order_by("id").first()
        if first is None:
            return None
        earned = earnings.aggregate(total=Sum(F("amount") + F("pending_change")))["total"]
        reversed_before = -(
            Entry.objects.filter(
                member_id=member.pk, kind=Kind.REVERSE, reverses__in=earnings
            ).aggregate(total=Sum(F("amount") + F("pending_change")))["total"]
            or 0
        )
        if points > earned - reversed_before:
            raise InvalidPoints(
                f"{of_source.type} {of_source.ref} earned {earned} points and "
                f"{reversed_before} are already reversed; {points} more cannot be."
            )
        own_lots = Lot.objects.filter(entry__in=earnings, remaining__gt=0)
        pending_lots = list(own_lots.filter(pending=True).order_by("available_from", "id"))
        from_pending = min(points, sum(lot.remaining for lot in pending_lots))
        entry, _ = _write(
            cursor,
            balance,
            kind=Kind.REVERSE,
            amount=-(points - from_pending),
            pending_change=-from_pending,
            source=source,
            key=key,
            fingerprint=fingerprint,
            reason=reason,
            reverses=first,
        )
        _take_from_lots(cursor, entry, pending_lots, from_pending)
        rest = points - from_pending
        if rest:
            rest = _take_from_lots(
                cursor, entry, own_lots.filter(pending=False).order_by("expires_at", "id"), rest
            )
            _take_from_lots(
                cursor, entry, spendable_lots(cursor, member.pk, rest, cutoff=timezone.now()), rest
            )
    return entry


def points_adjust(
    *,
    member: Member,
    points: int,
    actor: User,
    reason: str,
    key: str,
) -> Entry:
    """A staff correction, signed, with a mandatory reason, by a user with the
    `points.adjust_points` permission (and `points.adjust_points_large` above
    POINTS_LARGE_ADJUSTMENT). A credit makes a lot;
    a debit takes from the lots that expire first and may leave a debt."""
    _check_points(points, allow_negative=True)
    if not reason.strip():
        raise InvalidPoints("An adjustment needs a reason.")
    if not actor.has_perm("points.adjust_points"):
        raise NotAllowed("Adjusting points needs the adjust_points permission.")
    large = settings.POINTS_LARGE_ADJUSTMENT
    if abs(points) > large and not actor.has_perm("points.adjust_points_large"):
        raise NotAllowed(f"Adjustments above {large} points need a manager.")
    fingerprint = fingerprint_of(op="adjust", points=points, reason=reason, actor=actor.pk)
    with transaction.atomic(), connection.cursor() as cursor:
        balance = _lock(cursor, member.pk)
        before = balance.available
        entry, written = _write(
            cursor,
            balance,
            kind=Kind.ADJUST,
            amount=points,
            source=Source(Entry.Source.STAFF, str(actor.pk)),
            key=key,
            fingerprint=fingerprint,
            actor=actor,
            reason=reason,
        )
        if not written:
            return entry
        if points > 0:
            now = timezone.now()
            credited = _credit_lots(before, [(None, points)])
            insert_lot(
                cursor,
                member_id=member.pk,
                entry_id=entry.id,
                original=points,
                remaining=credited[0][1] if credited else 0,
                pending=False,
                available_from=now,
                expires_at=lot_expires_at(now),
            )
        else:
            _take_from_lots(
                cursor,
                entry,
                spendable_lots(cursor, member.pk, -points, cutoff=timezone.now()),
                -points,
            )
    return entry


def points_expire_due(*, first_id: int, last_id: int, cutoff: dt.datetime) -> int:
    """Expire every lot past `cutoff` of the members in an id range (the nightly
    job's chunk); returns how many members had points expire."""
    with transaction.atomic():
        return expire_due_lots(first_id=first_id, last_id=last_id, cutoff=cutoff, locked=False)
