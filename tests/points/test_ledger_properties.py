"""The ledger against a model of it in plain Python (hypothesis, stateful): random
sequences of earning (now and pending), the nightly release and expiry, redeeming,
cancelling, refunds in part and in full, staff adjustments of both signs and the
clock moving on, through the real services. After every step the balance, the
lots and the entries are what the model says, and `ledger_audit` finds nothing.

Each example runs in a savepoint rolled back at its end, on a frozen clock that
moves a second per operation (as a real one would: two operations never share
an instant) and by whole days when the clock rule says. On PostgreSQL (CI's
second run) it tries more examples than on SQLite."""

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
import time_machine
from django.conf import settings as django_settings
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from batch.services import program_midnight, program_today
from points.errors import InsufficientPoints
from points.expiry import lot_expires_at
from points.jobs import expire_points, release_pending
from points.models import Account, Entry, Lot
from points.selectors import balance_get
from points.services import (
    Source,
    points_adjust,
    points_cancel_redemption,
    points_earn,
    points_redeem,
    points_reverse,
)
from tests.factories import MemberFactory, UserFactory, ledger_is_clean

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.UTC)
ON_POSTGRES = django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
RUNS = settings(
    max_examples=50 if ON_POSTGRES else 10,
    stateful_step_count=30 if ON_POSTGRES else 20,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
POINTS = st.integers(min_value=1, max_value=900)


@dataclass
class ModelLot:
    """A lot as the model sees it, named by the key of the entry that made it."""

    key: str
    source: str | None  # the order that earned it; None for a staff credit
    original: int
    remaining: int
    pending: bool
    available_from: dt.datetime
    expires_at: dt.datetime
    expired: int = 0  # points the expiry took from it


@dataclass
class ModelRedemption:
    entry: Entry
    points: int
    uses: list[tuple[ModelLot, int]]


@dataclass
class Model:
    available: int = 0
    pending: int = 0
    lots: list[ModelLot] = field(default_factory=list)
    entries: list[tuple[str, int, int]] = field(default_factory=list)
    earned: dict[str, int] = field(default_factory=dict)
    reversed: dict[str, int] = field(default_factory=dict)

    def write(self, kind: str, amount: int, pending_change: int = 0) -> None:
        self.available += amount
        self.pending += pending_change
        self.entries.append((kind, amount, pending_change))

    def spendable(self) -> list[ModelLot]:
        """Available lots with points, in spending order (expiry, then age)."""
        return sorted(
            (lot for lot in self.lots if not lot.pending and lot.remaining),
            key=lambda lot: lot.expires_at,
        )

    def expire(self, cutoff: dt.datetime) -> None:
        due = [lot for lot in self.spendable() if lot.expires_at <= cutoff]
        if due:
            self.write("expire", -sum(lot.remaining for lot in due))
        for lot in due:
            lot.expired += lot.remaining
            lot.remaining = 0

    def expire_overdue(self, now: dt.datetime) -> None:
        """What a debit does first: points past their expiry are expired."""
        self.expire(now)

    def credit(
        self, pieces: list[tuple[ModelLot, int]], available: int
    ) -> list[tuple[ModelLot, int]]:
        """Points coming back to a balance of `available` repay its debt first, from
        the front: what each lot gets."""
        debt = max(0, -available)
        credited = []
        for lot, points in pieces:
            repaid = min(debt, points)
            debt -= repaid
            credited.append((lot, points - repaid))
        return credited

    def take(self, lots: list[ModelLot], points: int) -> tuple[int, list[tuple[ModelLot, int]]]:
        uses = []
        for lot in lots:
            taken = min(lot.remaining, points)
            if taken:
                lot.remaining -= taken
                points -= taken
                uses.append((lot, taken))
        return points, uses

    def left(self, source: str) -> int:
        expired = sum(lot.expired for lot in self.lots if lot.source == source)
        return self.earned[source] - self.reversed[source] - expired


class LedgerMachine(RuleBasedStateMachine):
    orders = Bundle("orders")
    redemptions = Bundle("redemptions")

    def __init__(self) -> None:
        super().__init__()
        self.clock = time_machine.travel(START, tick=False)
        self.traveller = self.clock.start()
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.member = MemberFactory()
        self.staff = UserFactory(is_staff=True, is_superuser=True)
        self.model = Model()
        self.keys = (f"k{n}" for n in itertools.count())
        self.done: list[tuple[Callable[..., Entry | None], dict[str, object], Entry]] = []

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)
        self.clock.stop()

    def _tick(self) -> dt.datetime:
        self.traveller.shift(dt.timedelta(seconds=1))
        return timezone.now()

    def _do(self, operation: Callable[..., Entry | None], **arguments: object) -> Entry | None:
        """Call a service, and keep the call to replay it."""
        entry = operation(**arguments)
        if entry is not None:
            self.done.append((operation, arguments, entry))
        return entry

    @precondition(lambda self: self.done)
    @rule(data=st.data())
    def replay(self, data: st.DataObject) -> None:
        """The same call again, later: the first entry, and nothing written."""
        operation, arguments, entry = data.draw(st.sampled_from(self.done), label="call")
        self._tick()
        assert operation(**arguments) == entry

    def _earn(self, points: int, *, pending: bool) -> str:
        now = self._tick()
        key = next(self.keys)
        source = f"order-{key}"
        starts = now + dt.timedelta(days=django_settings.RETURN_WINDOW_DAYS) if pending else now
        self._do(
            points_earn,
            member=self.member,
            points=points,
            source=Source(Entry.Source.ORDER, source),
            key=key,
            available_from=starts if pending else None,
        )
        model = self.model
        if pending:
            model.write("pending", 0, points)
            remaining = points
        else:
            remaining = points - min(points, max(0, -model.available))
            model.write("earn", points)
        model.lots.append(
            ModelLot(key, source, points, remaining, pending, starts, lot_expires_at(starts))
        )
        model.earned[source], model.reversed[source] = points, 0
        return source

    @rule(target=orders, points=POINTS)
    def earn(self, points: int) -> str:
        return self._earn(points, pending=False)

    @rule(target=orders, points=POINTS)
    def earn_pending(self, points: int) -> str:
        return self._earn(points, pending=True)

    @rule()
    def nightly(self) -> None:
        """The night's release, then its expiry, for the programme's day now."""
        self._tick()
        day = program_today()
        cutoff = program_midnight(day)
        release_pending(day, self.member.pk, self.member.pk)
        model = self.model
        due = sorted(
            (lot for lot in model.lots if lot.pending and lot.available_from <= cutoff),
            key=lambda lot: lot.available_from,
        )
        points = sum(lot.remaining for lot in due)
        if points:
            credited = model.credit([(lot, lot.remaining) for lot in due], model.available)
            model.write("release", points, -points)
            for lot, given in credited:
                lot.remaining = given
        for lot in due:
            lot.pending = False
        expire_points(day, self.member.pk, self.member.pk)
        model.expire(cutoff)

    @rule(target=redemptions, points=POINTS)
    def redeem(self, points: int) -> ModelRedemption | None:
        now = self._tick()
        model = self.model
        if (
            model.available
            - sum(lot.remaining for lot in model.spendable() if lot.expires_at <= now)
            < points
        ):
            with pytest.raises(InsufficientPoints):
                points_redeem(
                    member=self.member,
                    points=points,
                    source=Source(Entry.Source.REWARD, "checkout"),
                    key=next(self.keys),
                )
            return None
        entry = self._do(
            points_redeem,
            member=self.member,
            points=points,
            source=Source(Entry.Source.REWARD, "checkout"),
            key=next(self.keys),
        )
        model.expire_overdue(now)
        model.write("redeem", -points)
        short, uses = model.take(model.spendable(), points)
        assert not short
        return ModelRedemption(entry, points, uses)

    @rule(redemption=consumes(redemptions))
    def cancel(self, redemption: ModelRedemption | None) -> None:
        if redemption is None:
            return
        now = self._tick()
        self._do(points_cancel_redemption, redemption=redemption.entry, key=next(self.keys))
        model = self.model
        before = model.available
        model.write("cancel", redemption.points)
        uses = sorted(redemption.uses, key=lambda use: use[0].expires_at, reverse=True)
        debt, repaid, expired = max(0, -before), 0, []
        left: dict[str, int] = {}
        for lot, points in (use for use in uses if use[0].expires_at <= now):
            repay = 0
            if lot.source is not None:
                left.setdefault(lot.source, model.left(lot.source))
                repay = min(debt - repaid, max(0, points - max(0, left[lot.source])))
                left[lot.source] -= points - repay
            repaid += repay
            if points - repay:
                expired.append((lot, points - repay))
        for lot, given in model.credit(
            [use for use in uses if use[0].expires_at > now], before + repaid
        ):
            lot.remaining += given
        if expired:
            model.write("expire", -sum(points for _, points in expired))
            for lot, points in expired:
                lot.expired += points

    @rule(data=st.data(), order=orders, full=st.booleans())
    def refund(self, data: st.DataObject, order: str, full: bool) -> None:
        model = self.model
        most = model.earned[order] - model.reversed[order]
        if not most:
            return
        points = most if full else data.draw(st.integers(1, most), label="refunded")
        now = self._tick()
        entry = self._do(
            points_reverse,
            member=self.member,
            of_source=Source(Entry.Source.ORDER, order),
            points=points,
            source=Source(Entry.Source.REFUND, f"refund-of-{order}"),
            key=next(self.keys),
        )
        model.expire_overdue(now)
        points = min(points, model.left(order))
        if points <= 0:
            assert entry is None
            return
        pending_lots = [lot for lot in model.lots if lot.source == order and lot.pending]
        from_pending = min(points, sum(lot.remaining for lot in pending_lots))
        model.write("reverse", -(points - from_pending), -from_pending)
        model.take(pending_lots, from_pending)
        own = [lot for lot in model.spendable() if lot.source == order]
        rest, _ = model.take(own, points - from_pending)
        model.take(model.spendable(), rest)
        model.reversed[order] += points

    @rule(points=POINTS, credit=st.booleans())
    def adjust(self, points: int, credit: bool) -> None:
        now = self._tick()
        key = next(self.keys)
        signed = points if credit else -points
        self._do(
            points_adjust, member=self.member, points=signed, actor=self.staff, reason="x", key=key
        )
        model = self.model
        if credit:
            remaining = points - min(points, max(0, -model.available))
            model.write("adjust", points)
            model.lots.append(
                ModelLot(key, None, points, remaining, False, now, lot_expires_at(now))
            )
        else:
            model.expire_overdue(now)
            model.write("adjust", -points)
            model.take(model.spendable(), points)

    @rule(days=st.sampled_from([1, 6, 13, 14, 29, 90, 200, 364, 400]))
    def clock_moves_on(self, days: int) -> None:
        self.traveller.shift(dt.timedelta(days=days))

    @precondition(lambda self: self.model.entries)
    @invariant()
    def ledger_agrees_with_the_model(self) -> None:
        model = self.model
        account = Account.objects.get(member=self.member)
        assert (account.available, account.pending) == (model.available, model.pending)
        balance = balance_get(member=self.member)
        assert balance.debt == max(0, -model.available)
        entries = Entry.objects.filter(member=self.member).order_by("id")
        assert list(entries.values_list("kind", "amount", "pending_change")) == model.entries
        lots = Lot.objects.filter(member=self.member).order_by("id")
        assert list(
            lots.values_list("entry__idempotency_key", "remaining", "pending", "expires_at")
        ) == [(lot.key, lot.remaining, lot.pending, lot.expires_at) for lot in model.lots]
        assert ledger_is_clean()


def test_the_ledger_agrees_with_a_model_of_it():
    run_state_machine_as_test(LedgerMachine, settings=RUNS)
