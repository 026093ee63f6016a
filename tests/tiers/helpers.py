"""Helpers for the tiers tests: programme-local times, nightly runs at a fixed
hour, and the rows a member's tier is made of."""

import datetime as dt
from dataclasses import dataclass

import time_machine

from batch.runner import job_run
from batch.services import program_midnight, program_zone
from notifications.models import Message
from tiers.messages import notice_contexts
from tiers.models import MemberTier, TierChange


def local(year, month, day, hour=12, minute=0):
    """An instant given in the programme's time zone (Asia/Shanghai)."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=program_zone())


def days(n):
    return dt.timedelta(days=n)


# "Now" for the tests that freeze the clock (the `frozen_now` fixture).
NOW = local(2026, 6, 10, 15, 0)
# A qualifying order placed at BOUGHT; OUT is the first night whose window no
# longer holds it, GRACE_END the night its grace runs out.
BOUGHT = local(2025, 1, 15, 12, 0)
OUT = dt.date(2026, 1, 16)
GRACE_END = OUT + dt.timedelta(days=30)
# The paid plan's SKU (the `plan` fixture).
SKU = "PLUS-1Y"


def night(name, as_of, *, chunk_size=2):
    """Run the nightly job `name` for `as_of`, at 01:00 that programme day."""
    with time_machine.travel(program_midnight(as_of) + dt.timedelta(hours=1), tick=False):
        run = job_run(name=name, as_of=as_of, chunk_size=chunk_size)
    assert run.status == "succeeded", run.error
    return run


def recalc(as_of, **kwargs):
    return night("recalc_tiers", as_of, **kwargs)


def state(member):
    return MemberTier.objects.select_related("tier").get(pk=member.pk)


def changes(member, reason=None):
    rows = TierChange.objects.filter(member=member).order_by("pk")
    if reason:
        rows = rows.filter(reason=reason)
    return list(rows.select_related("from_tier", "to_tier"))


def reasons(member):
    return list(
        TierChange.objects.filter(member=member).order_by("pk").values_list("reason", flat=True)
    )


@dataclass(frozen=True)
class Notice:
    """A tier notice in the outbox, read back: what the templates are given."""

    kind: str
    as_of: dt.date
    tier: object
    plan: object
    amount_minor: int
    until: dt.date | None
    state: str
    sent_at: dt.datetime | None


def notices(member, kind=None):
    """The member's tier notices in the outbox, oldest first."""
    rows = Message.objects.filter(member=member, template__startswith="tiers.").order_by("pk")
    if kind:
        rows = rows.filter(template=f"tiers.{kind}")
    found = []
    for message in rows:
        [context] = notice_contexts([message.context])
        found.append(
            Notice(
                kind=message.template.removeprefix("tiers."),
                as_of=dt.date.fromisoformat(message.key.split(":")[1]),
                tier=context["tier"],
                plan=context["plan"],
                amount_minor=context["amount_minor"],
                until=context["until"],
                state=message.state,
                sent_at=message.sent_at,
            )
        )
    return found
