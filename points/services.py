"""The only write path of the points ledger.

Every function is atomic and locks the member's balance row (`Account`) first, so
one member's operations run one at a time; the entry and the balance are written
together. Each operation carries an idempotency key, unique per member: the same
key again returns the first entry, the same key with other arguments raises
`IdempotencyConflict`. Under the lock, the insert of the entry finds an earlier
one by the unique constraint on (member, key) and then writes nothing (`_write`);
an operation that would refuse, or answer or write anything before its entry,
looks the key up first (`_refuse`, `_replay`; earn and redeem with the lock, in
its round trip), so a replay always gets the first entry.
"""

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from django.conf import settings
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import F, QuerySet, Sum
from django.utils import timezone

from batch.services import program_midnight, program_zone
from members.models import Member, Sanction, User
from members.services import member_activity

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
    NewLot,
    SpendableLot,
    Statement,
    earned,
    earned_since_statement,
    expire_due_lots,
    has_entry_with_key,
    insert_lot_uses,
    lock_balance,
    lock_balance_for,
    lock_balance_with_lots,
    lots_unfreeze,
    spendable_lots,
    take_from_lots,
    write_credits,
    write_entry,
)
from .metrics import points_count
from .models import Account, Entry, Lot, LotUse

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


def _lock_for(cursor: CursorWrapper, member_id: int, key: str) -> tuple[Balance, bool]:
    """`_lock`, and whether the member has an entry with `key`, in one round trip
    (two on the member's first use of the ledger, when the balance row is
    created: a call racing this one may have written the key meanwhile)."""
    balance, used = lock_balance_for(cursor, member_id, key)
    if balance is None:
        return _lock(cursor, member_id), has_entry_with_key(cursor, member_id, key)
    return balance, used


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


# The entries the write-path fraud checks hear of (members.services.member_activity).
_ACTIVITIES: dict[str, str] = {Kind.EARN: "earn", Kind.PENDING: "earn", Kind.REDEEM: "redeem"}


def _entry(
    balance: Balance,
    *,
    now: dt.datetime,
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
) -> Entry:
    """The entry, not saved, and `balance` moved by it."""
    balance.available += amount
    balance.pending += pending_change
    if kind in (Kind.EARN, Kind.PENDING):
        balance.lifetime_earned += amount + pending_change
    return Entry(
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


def _written(entry: Entry, entry_id: int) -> None:
    """`entry` as Entry.objects.create() leaves it, counted once its transaction
    commits."""
    entry.id = entry_id
    entry._state.adding = False
    entry._state.db = connection.alias
    points_count(kind=entry.kind, amount=entry.amount, pending_change=entry.pending_change)


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
    lot: NewLot | None = None,
) -> tuple[Entry, bool]:
    """Insert the entry and move the balance, taking from lots (`taking`) or
    crediting a new one (`lot`): (entry, True). When the member has an entry
    with this key already, nothing is written: (that entry, False), or
    IdempotencyConflict if it was written for other arguments."""
    now = timezone.now()
    entry = _entry(
        balance,
        now=now,
        kind=kind,
        amount=amount,
        pending_change=pending_change,
        source=source,
        key=key,
        fingerprint=fingerprint,
        actor=actor,
        reason=reason,
        reverses=reverses,
        effective_at=effective_at,
    )
    # No savepoint: the insert does nothing on the unique key (ON CONFLICT), and
    # with the balance row locked no other insert of the key can be under way.
    entry_id = write_entry(cursor, balance, now=now, entry=entry, taking=taking, lot=lot)
    if entry_id is None:
        return _earlier_entry(member_id=balance.member_id, key=key, fingerprint=fingerprint), False
    _written(entry, entry_id)
    if (activity := _ACTIVITIES.get(kind)) is not None:
        member_activity(member_id=balance.member_id, activity=activity)
    return entry, True


def _credit_lots(account_available_before: int, pieces: Sequence[tuple[Lot | None, int]]) -> list:
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


def _credited(account_available_before: int, points: int) -> int:
    """What of `points` earned goes to their lot: what is left once they have
    repaid the account's debt."""
    credited = _credit_lots(account_available_before, [(None, points)])
    return credited[0][1] if credited else 0


def _has_overdue_lots(cursor: CursorWrapper, member_id: int, now: dt.datetime) -> bool:
    """Whether the member has a lot past its expiry that the nightly job has not
    expired yet (it would be the first to spend)."""
    first = spendable_lots(cursor, member_id, 1, cutoff=now)
    return bool(first) and first[0].due


def _expire_overdue(cursor: CursorWrapper, balance: Balance, now: dt.datetime) -> Balance:
    """Points past their expiry are never spent, taken back nor counted: expire the
    member's lots past `now` that the nightly job has not expired yet (one `expire`
    entry), and return the balance row after it. The caller has made sure this is
    not a replay, which must write nothing."""
    expire_due_lots(first_id=balance.member_id, last_id=balance.member_id, cutoff=now, locked=True)
    return _lock(cursor, balance.member_id)


@dataclass(frozen=True)
class _SourcePoints:
    """What a source's earning entries earned, and what of it was reversed since
    and expired from its own lots: points left = earned - reversed - expired."""

    earned: int
    reversed: int
    expired: int

    @property
    def left(self) -> int:
        return self.earned - self.reversed - self.expired


def _source_points(earnings: QuerySet[Entry]) -> _SourcePoints:
    earned = earnings.aggregate(total=Sum(F("amount") + F("pending_change")))["total"] or 0
    reversals = Entry.objects.filter(kind=Kind.REVERSE, reverses__in=earnings)
    reversed_points = reversals.aggregate(total=Sum(F("amount") + F("pending_change")))["total"]
    expiries = LotUse.objects.filter(lot__entry__in=earnings, entry__kind=Kind.EXPIRE)
    expired = expiries.aggregate(total=Sum("points"))["total"] or 0
    return _SourcePoints(earned=earned, reversed=-(reversed_points or 0), expired=expired)


def _earnings_of(member_id: int, source: Source) -> QuerySet[Entry]:
    return Entry.objects.filter(
        member_id=member_id,
        source_type=source.type,
        source_ref=source.ref,
        kind__in=[Kind.EARN, Kind.PENDING],
    )


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
) -> Entry:
    """Credit earned points: available now (an `earn` entry and a lot), or pending
    until `available_from` (a `pending` entry and a pending lot the nightly
    release turns available). Earned points repay a debt first. `effective_at`
    is when what earned them happened (an order's placed_at), if not now.
    Three round trips: the lock and the key looked up, the entry, then the
    balance and the lot."""
    _check_points(points)
    now = timezone.now()
    pending = available_from is not None and available_from > now
    starts = available_from if pending and available_from else now
    # The arguments as given, not whether they are pending at this moment: the
    # same call replayed once the points are due is the same call.
    fingerprint = fingerprint_of(
        op="earn", points=points, source=source, available_from=available_from, reason=reason
    )
    with transaction.atomic(), connection.cursor() as cursor:
        balance, used = _lock_for(cursor, member.pk, key)
        if used:
            return _earlier_entry(member_id=member.pk, key=key, fingerprint=fingerprint)
        if balance.member_status != Member.Status.ACTIVE:
            raise MemberInactive(f"Member {member.number} is {member.status} and cannot earn.")
        credited = points if pending else _credited(balance.available, points)
        entry, _ = _write(
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
            lot=NewLot(points, credited, pending, starts, lot_expires_at(starts)),
        )
    return entry


@dataclass(frozen=True)
class Credit:
    """Points to earn under their own source and key (`points_earn_together`)."""

    points: int
    source: Source
    key: str
    reason: str = ""


def points_earn_together(
    *,
    member: Member,
    credits: list[Credit],
    locked: Balance,
    available_from: dt.datetime | None = None,
    effective_at: dt.datetime | None = None,
    also: Sequence[Statement] = (),
    fresh: bool = False,
) -> list[Entry]:
    """`points_earn` of each of `credits` in turn (an order's own points, then
    each campaign's), all available from `available_from`, on the balance row
    the caller locked earlier in its transaction: the same entries, lots and
    balance as that many calls, in two round trips whatever their number
    (`write_credits`), the second also sending the caller's statements `also`.

    A replay (every key used before, with the same arguments) gets the first
    entries and writes nothing, `also` included. Keys of which only some were
    used are a conflict (IdempotencyConflict), and the caller's transaction is
    to be rolled back: the entries of the others were inserted in it.

    `fresh`: the keys cannot have been used, since they name a row the caller
    inserted in its transaction (an order's): one round trip, and a key found
    used is an error rather than a replay.

    The last round trip also reads what the member has earned on the day, these
    included: the fraud checks hear of it with the activity (`points_on_day`)
    rather than asking again once the transaction has committed."""
    for credit in credits:
        _check_points(credit.points)
    now = timezone.now()
    pending = available_from is not None and available_from > now
    starts = available_from if pending and available_from else now
    fingerprints = [
        fingerprint_of(
            op="earn",
            points=credit.points,
            source=credit.source,
            available_from=available_from,
            reason=credit.reason,
        )
        for credit in credits
    ]
    with connection.cursor() as cursor:
        if locked.member_status != Member.Status.ACTIVE:
            inactive = MemberInactive(f"Member {member.number} is {member.status} and cannot earn.")
            return [
                _refuse(cursor, inactive, member_id=member.pk, key=credit.key, fingerprint=print_)
                for credit, print_ in zip(credits, fingerprints, strict=True)
            ]
        balance = replace(locked)  # moved by each entry in turn; the caller's once written
        written = []
        for credit, print_ in zip(credits, fingerprints, strict=True):
            credited = credit.points if pending else _credited(balance.available, credit.points)
            entry = _entry(
                balance,
                now=now,
                kind=Kind.PENDING if pending else Kind.EARN,
                amount=0 if pending else credit.points,
                pending_change=credit.points if pending else 0,
                source=credit.source,
                key=credit.key,
                fingerprint=print_,
                reason=credit.reason,
                effective_at=effective_at,
            )
            lot = NewLot(credit.points, credited, pending, starts, lot_expires_at(starts))
            written.append((entry, lot))
        # and, last, what the member has earned today, these included (the fraud checks')
        day = timezone.localtime(now, program_zone()).date()
        today = earned_since_statement(member.pk, program_midnight(day))
        ids, rows = write_credits(
            cursor, balance, now=now, credits=written, also=[*also, today], fresh=fresh
        )
    if ids and len(ids) < len(credits):
        raise IdempotencyConflict(
            f"Some of the idempotency keys {[c.key for c in credits]!r} were used before."
        )
    if not ids:
        return [
            _earlier_entry(member_id=member.pk, key=credit.key, fingerprint=print_)
            for credit, print_ in zip(credits, fingerprints, strict=True)
        ]
    for entry, _lot in written:
        _written(entry, ids[entry.idempotency_key])
    locked.available, locked.pending = balance.available, balance.pending
    locked.lifetime_earned = balance.lifetime_earned
    facts = {"points_on_day": (day, earned(rows[-1]))}
    member_activity(member_id=member.pk, activity="earn", facts=facts)  # once: for them all
    return [entry for entry, _lot in written]


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
        locked, lots, used = lock_balance_with_lots(cursor, member.pk, points, cutoff=now, key=key)
        if locked is None:  # the member's first use of the ledger
            locked, used = _lock_for(cursor, member.pk, key)
        if used:  # a replay: the first entry, whatever the balance is now
            return _earlier_entry(member_id=member.pk, key=key, fingerprint=fingerprint)
        balance = locked
        if (refusal := _spending_refusal(balance)) is not None:
            raise refusal
        if lots and lots[0].due:
            # Lots past their expiry that the nightly job has not expired yet come
            # first: they are expired here, never spent.
            balance = _expire_overdue(cursor, balance, now)
            lots = spendable_lots(cursor, member.pk, points, cutoff=now)
        if balance.available < points:
            raise InsufficientPoints(
                f"Member {member.number} has {max(balance.available, 0)} points; "
                f"{points} were asked for."
            )
        taken, short = _takes(lots, points)
        if short:
            raise AssertionError(f"ledger out of balance for member {member.pk}: lots short")
        entry, _ = _write(
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
    """Give back what a redemption took, to the lots it took them from, with their
    own expiry: points coming back repay a debt first. Points whose lot has
    expired meanwhile come back expired (an `expire` entry at once, keyed after
    the cancellation): a cancellation never gives points a new life, and expired
    points repay a debt only as far as the refund of their own source took them
    already (so no point is taken twice)."""
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
        uses = list(
            redemption.lot_uses.select_related("lot__entry").order_by("-lot__expires_at", "id")
        )
        live = [(use.lot, use.points) for use in uses if use.lot.expires_at > now]
        repaid, expired = _repay_with_expired(
            debt=max(0, -before),
            pieces=[(use.lot, use.points) for use in uses if use.lot.expires_at <= now],
        )
        for lot, given in _credit_lots(before + repaid, live):
            Lot.objects.filter(pk=lot.pk).update(remaining=F("remaining") + given)
        if expired:
            expiry, _ = _write(
                cursor,
                balance,
                kind=Kind.EXPIRE,
                amount=-sum(points for _, points in expired),
                source=Source(Entry.Source.SYSTEM, "expiry"),
                key=f"{key}:expire",
                fingerprint=fingerprint,
                reason=reason,
            )
            insert_lot_uses(cursor, expiry.id, [(lot.id, points) for lot, points in expired])
    return entry


def _repay_with_expired(*, debt: int, pieces: list[tuple[Lot, int]]) -> tuple[int, list]:
    """Points coming back to lots that have expired: what of them repays `debt`, and
    the (lot, points) that expire at once. They repay only what a reversal of
    their lot's source took beyond that source's points left (points the refund
    took back as spent, which have now come back and would have expired)."""
    repaid, expired = 0, []
    left: dict[Source, int] = {}
    for lot, points in pieces:
        repay = 0
        if lot.entry.kind in (Kind.EARN, Kind.PENDING):
            source = Source(lot.entry.source_type, lot.entry.source_ref)
            if source not in left:
                left[source] = _source_points(_earnings_of(lot.member_id, source)).left
            repay = min(debt - repaid, max(0, points - max(0, left[source])))
            left[source] -= points - repay
        repaid += repay
        if points - repay:
            expired.append((lot, points - repay))
    return repaid, expired


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
    source earned, less what was reversed before (asking for more is refused);
    and what expired of the source's own lots is not taken again: the reversal
    takes at most what is still live or was spent. None when there is nothing
    to reverse (the source earned nothing, or all that is left of it expired)."""
    _check_points(points)
    fingerprint = fingerprint_of(op="reverse", of_source=of_source, points=points, source=source)
    with transaction.atomic(), connection.cursor() as cursor:
        balance = _lock(cursor, member.pk)
        if (
            earlier := _replay(cursor, member_id=member.pk, key=key, fingerprint=fingerprint)
        ) is not None:
            return earlier
        earnings = _earnings_of(member.pk, of_source)
        first = earnings.order_by("id").first()
        if first is None:
            return None
        now = timezone.now()
        if _has_overdue_lots(cursor, member.pk, now):
            balance = _expire_overdue(cursor, balance, now)
        of_points = _source_points(earnings)
        if points > of_points.earned - of_points.reversed:
            raise InvalidPoints(
                f"{of_source.type} {of_source.ref} earned {of_points.earned} points and "
                f"{of_points.reversed} are already reversed; {points} more cannot be."
            )
        points = min(points, of_points.left)
        if points <= 0:
            return None
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
                cursor, entry, spendable_lots(cursor, member.pk, rest, cutoff=now), rest
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
        now = timezone.now()
        if points < 0 and _has_overdue_lots(cursor, member.pk, now):
            # A debit never takes points past their expiry: they expire first (a
            # replay writes nothing).
            if (
                earlier := _replay(cursor, member_id=member.pk, key=key, fingerprint=fingerprint)
            ) is not None:
                return earlier
            balance = _expire_overdue(cursor, balance, now)
        lot = None
        if points > 0:
            credited = _credited(balance.available, points)
            lot = NewLot(points, credited, False, now, lot_expires_at(now))
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
            lot=lot,
        )
        if not written:
            return entry
        if points < 0:
            _take_from_lots(
                cursor,
                entry,
                spendable_lots(cursor, member.pk, -points, cutoff=now),
                -points,
            )
    return entry


def points_expire_due(*, first_id: int, last_id: int, cutoff: dt.datetime) -> int:
    """Expire every lot past `cutoff` of the members in an id range (the nightly
    job's chunk); returns how many members had points expire."""
    with transaction.atomic():
        return expire_due_lots(first_id=first_id, last_id=last_id, cutoff=cutoff, locked=False)


def points_sanction_apply(*, sanction: Sanction) -> int:
    """What a sanction means for the member's points (a sanction hook, run in the
    sanction's transaction): a member leaving the frozen status gets the frozen
    days back on their lots' expiry, since nothing expired while they were frozen
    (points.ledger_sql.expire_due_lots). Returns the lots moved."""
    if (
        sanction.status_before != Member.Status.FROZEN
        or sanction.status_after == sanction.status_before
    ):
        return 0
    frozen = (
        Sanction.objects.filter(
            member_id=sanction.member_id, status_after=Member.Status.FROZEN, pk__lt=sanction.pk
        )
        .exclude(status_before=Member.Status.FROZEN)
        .order_by("-pk")
        .values_list("created_at", flat=True)
        .first()
    )
    if frozen is None:
        return 0
    zone = program_zone()
    days = (timezone.localdate(sanction.created_at, zone) - timezone.localdate(frozen, zone)).days
    list(Account.objects.select_for_update().filter(member_id=sanction.member_id))
    return lots_unfreeze(member_id=sanction.member_id, days=days)
