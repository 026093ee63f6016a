"""Helpers for the tiers tests: programme-local times, nightly runs at a fixed
hour, and the rows a member's tier is made of."""

import datetime as dt

import time_machine

from batch.services import job_run, program_midnight, program_zone
from tiers.models import MemberTier, TierChange, TierNotice


def local(year, month, day, hour=12, minute=0):
    """An instant given in the programme's time zone (Asia/Shanghai)."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=program_zone())


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


def notices(member, kind=None):
    rows = TierNotice.objects.filter(member=member).order_by("pk")
    if kind:
        rows = rows.filter(kind=kind)
    return list(rows.select_related("tier", "plan"))
