"""recalc_tiers as an operator runs it: twice for the same night, after a crash
half-way, and the near-upgrade nudges it sends."""

import dataclasses
import datetime as dt
from collections import Counter
from io import StringIO

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from batch import registry
from batch.models import JobRun
from batch.runner import job_run
from notifications.models import Message
from notifications.services import outbox_send_due
from tests.factories import MemberFactory, OrderFactory
from tiers.models import MemberTier, TierChange

from .helpers import BOUGHT, GRACE_END, OUT, days, local, notices, recalc, state

pytestmark = pytest.mark.django_db


def snapshot():
    return (
        list(TierChange.objects.order_by("pk").values()),
        list(Message.objects.order_by("pk").values()),
        list(MemberTier.objects.order_by("pk").values()),
    )


# The same night twice


def test_the_same_night_run_twice_changes_nothing_the_second_time(promoted):
    falls_out = promoted("gold", BOUGHT)
    near_silver = MemberFactory()
    OrderFactory(member=near_silver, placed_at=local(2026, 1, 10), total_minor=90_000)
    climbs = MemberFactory()
    OrderFactory(member=climbs, placed_at=local(2026, 2, 1), total_minor=500_000)

    for night in (OUT, GRACE_END):
        before = snapshot()
        recalc(night)
        after_first = snapshot()
        recalc(night)
        after_second = snapshot()
        # Other chunk bounds: nothing is skipped, the statements' own guards hold.
        recalc(night, chunk_size=5)

        assert after_first != before
        assert after_second == after_first
        assert snapshot() == after_first

    assert [c.reason for c in TierChange.objects.filter(member=falls_out)] == [
        "upgrade",
        "downgrade",
    ]
    assert TierChange.objects.filter(member=climbs, reason="upgrade").count() == 1
    assert len(notices(near_silver, "nudge")) == 2  # OUT, and 30 days later
    assert state(falls_out).tier.code == "silver"


def test_the_nightly_command_takes_the_night_and_is_safe_to_repeat(promoted):
    member = promoted("gold", BOUGHT)
    out = StringIO()

    call_command("recalc_tiers", "--as-of", OUT.isoformat(), "--chunk-size", "1", stdout=out)
    call_command("recalc_tiers", "--as-of", OUT.isoformat(), "--chunk-size", "1", stdout=out)

    assert f"recalc_tiers {OUT.isoformat()}: succeeded" in out.getvalue()
    assert state(member).grace_until == GRACE_END
    assert len(notices(member, "grace")) == 1


# A crash half-way


class Boom(Exception):
    pass


def test_a_crash_in_a_chunk_then_a_rerun_evaluates_every_member_exactly_once(promoted, monkeypatch):
    members = [promoted("gold", BOUGHT) for _ in range(6)]
    ids = [m.pk for m in members]
    assert ids == list(range(ids[0], ids[0] + 6))  # chunks of 2: [0,1] [2,3] [4,5]
    recalc(OUT)  # everyone enters grace
    assert all(state(m).grace_until == GRACE_END for m in members)

    import tiers.jobs

    real, failing_first_id = tiers.jobs.recalc_tiers, ids[2]

    def crashing(as_of, first_id, last_id):
        counts = real(as_of, first_id, last_id)
        if first_id == failing_first_id:
            raise Boom("worker died")
        return counts

    job = registry.get("recalc_tiers")
    monkeypatch.setitem(registry._jobs, job.name, dataclasses.replace(job, run_chunk=crashing))
    with pytest.raises(Boom):
        job_run(name="recalc_tiers", as_of=GRACE_END, chunk_size=2)

    failed = JobRun.objects.filter(job="recalc_tiers", as_of=GRACE_END).get()
    assert failed.status == "failed"
    dropped = TierChange.objects.filter(reason="downgrade")
    assert (
        sorted(dropped.values_list("member_id", flat=True)) == ids[:2]
    )  # the failed chunk rolled back

    monkeypatch.undo()
    rerun = recalc(GRACE_END)
    recalc(GRACE_END)

    assert rerun.status == "succeeded"
    assert Counter(dropped.values_list("member_id", flat=True)) == Counter(dict.fromkeys(ids, 1))
    downgrade_notices = Message.objects.filter(template="tiers.downgrade")
    assert Counter(downgrade_notices.values_list("member_id", flat=True)) == Counter(
        dict.fromkeys(ids, 1)
    )
    assert {(state(m).tier.code, state(m).grace_until) for m in members} == {("silver", None)}
    grace = Message.objects.filter(template="tiers.grace")
    assert Counter(grace.values_list("member_id", flat=True)) == Counter(dict.fromkeys(ids, 1))


# Nudges


NIGHT = dt.date(2026, 6, 10)


def spending(total_minor, **member_fields):
    member = MemberFactory(**member_fields)
    OrderFactory(member=member, placed_at=local(2026, 6, 1), total_minor=total_minor)
    return member


@pytest.mark.parametrize(
    ("spend", "nudged_left"),
    [(79_999, None), (80_000, 20_000), (99_999, 1), (100_000, None)],
    ids=["just-under-80%", "exactly-80%", "one-unit-short", "reached"],
)
def test_a_member_within_20_percent_of_the_next_tier_is_nudged_with_the_amount_left(
    spend, nudged_left
):
    member = spending(spend)

    recalc(NIGHT)

    nudges = notices(member, "nudge")
    if nudged_left is None:
        assert nudges == []
    else:
        [nudge] = nudges
        assert (nudge.tier.code, nudge.amount_minor, nudge.as_of) == ("silver", nudged_left, NIGHT)
        assert state(member).nudged_on == NIGHT


def test_the_nudge_aims_at_the_tier_above_the_one_reached_that_night():
    member = spending(1_600_000)

    recalc(NIGHT)

    assert state(member).tier.code == "gold"
    [nudge] = notices(member, "nudge")
    assert (nudge.tier.code, nudge.amount_minor) == ("diamond", 400_000)


def test_no_nudge_above_the_highest_tier():
    member = spending(3_000_000)

    recalc(NIGHT)

    assert state(member).tier.code == "diamond"
    assert notices(member, "nudge") == []


def test_a_member_is_nudged_at_most_once_per_30_days():
    member = spending(90_000)

    recalc(NIGHT)
    recalc(NIGHT + days(10))
    recalc(NIGHT + days(29))
    assert [n.as_of for n in notices(member, "nudge")] == [NIGHT]

    recalc(NIGHT + days(30))
    assert [n.as_of for n in notices(member, "nudge")] == [NIGHT, NIGHT + days(30)]


def test_the_nudge_e_mail_goes_only_to_members_who_consented_to_marketing(
    django_capture_on_commit_callbacks,
):
    consented = spending(90_000, marketing_email_at=timezone.now())
    not_consented = spending(90_000)

    with (
        time_machine.travel(local(2026, 6, 10, 1, 30), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        recalc(NIGHT)
    assert mail.outbox == []  # marketing: held until the quiet hours end
    with time_machine.travel(local(2026, 6, 10, 8), tick=False):
        outbox_send_due()

    assert len(notices(consented, "nudge")) == len(notices(not_consented, "nudge")) == 1
    assert [n.state for n in notices(not_consented)] == ["suppressed"]
    [email] = mail.outbox
    assert email.to == [consented.user.email]
    assert email.subject == "You are close to Silver"
    assert "¥100.00" in email.body


def test_the_grace_e_mail_is_transactional_and_goes_without_marketing_consent(
    promoted, django_capture_on_commit_callbacks
):
    member = promoted("silver", BOUGHT)

    with django_capture_on_commit_callbacks(execute=True):
        recalc(OUT)

    assert member.marketing_email_at is None
    assert "Keep your Silver tier" in [m.subject for m in mail.outbox]


def test_only_active_members_are_nudged():
    restricted = spending(90_000, status="restricted")

    recalc(NIGHT)

    assert notices(restricted, "nudge") == []


def test_a_member_with_no_orders_starts_in_the_lowest_tier_with_no_history():
    member = MemberFactory()

    recalc(NIGHT)

    st = state(member)
    assert (st.tier.code, st.qualified_tier.code, st.spend_minor, st.grace_until) == (
        "member",
        "member",
        0,
        None,
    )
    assert not TierChange.objects.filter(member=member).exists()
    assert notices(member) == []
