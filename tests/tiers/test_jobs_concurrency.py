"""The tier jobs against an order committing in the middle of a chunk
(PostgreSQL: real row locks and concurrent connections)."""

import datetime as dt

import pytest

from notifications.models import Message
from tests.concurrency import in_thread, wait_until_blocked
from tests.factories import MemberFactory, order_place
from tiers import jobs, messages
from tiers.models import Subscription, TierChange

from .helpers import BOUGHT, GRACE_END, OUT, SKU, days, night, reasons, recalc, state
from .test_paid_plans import ENDS, buy

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _order_during(monkeypatch, kind, place):
    """When the chunk writes its `kind` notices, `place` an order in another
    thread and let it commit, or wait on the chunk's locks; the thread."""
    started = []

    def hook(function):
        def wrapped(*args, **kwargs):
            if args[1] == kind and not started:
                started.append(in_thread(place))
                wait_until_blocked(thread=started[0])
            return function(*args, **kwargs)

        return wrapped

    monkeypatch.setattr(jobs, "_notice", hook(jobs._notice))
    monkeypatch.setattr(jobs, "_plan_notices", hook(jobs._plan_notices))
    return started


def test_an_order_keeping_the_tier_during_the_night_leaves_no_downgrade_behind(
    promoted, tiers, monkeypatch
):
    """The member's grace ends tonight; an order reaching gold again commits
    while the chunk writes its downgrades. Either the order waits and upgrades
    the member back after the downgrade, or the member is not downgraded and has
    no downgrade history or notice: never a notice of a downgrade that did not
    happen."""
    member = promoted("gold", BOUGHT)
    recalc(OUT)
    assert state(member).grace_until == GRACE_END
    started = _order_during(
        monkeypatch, "downgrade", lambda: order_place(member, tiers["gold"].threshold_minor)
    )

    recalc(GRACE_END)
    [thread] = started
    thread.join()

    assert not isinstance(thread.result, Exception), thread.result
    last = TierChange.objects.filter(member=member).latest("pk")
    assert last.to_tier == state(member).tier
    downgrades = TierChange.objects.filter(member=member, reason="downgrade").count()
    assert Message.objects.filter(member=member, template="tiers.downgrade").count() == downgrades
    assert reasons(member) == ["upgrade", "downgrade", "upgrade"]


def test_a_plan_extended_while_the_night_ends_it_stays_bought(plan, monkeypatch):
    """The plan ran out at ENDS; at 01:00 the next night the member buys another
    year while the chunk ends the plan. The year bought is never lost: the
    purchase waits and starts a new plan after the old one ended."""
    member = MemberFactory()
    buy(member, BOUGHT)
    started = _order_during(
        monkeypatch,
        messages.PLAN_ENDED,
        lambda: order_place(member, 19_900, lines=[(SKU, 1, 19_900)]),
    )

    run = night("paid_plans", dt.date(2027, 1, 16))
    [thread] = started
    thread.join()

    assert not isinstance(thread.result, Exception), thread.result
    assert run.counts.get("ended", 0) == TierChange.objects.filter(reason="plan_ended").count()
    running = Subscription.objects.get(member=member, status="active")
    assert running.ends_at > ENDS + days(364)
