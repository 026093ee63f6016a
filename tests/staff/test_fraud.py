"""Each fraud rule flags a member at its threshold and not one below, on the
write path and in the nightly review; staff clear a flag with a note or
sanction the member from the review queue."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse

from batch.runner import job_run
from batch.services import program_midnight
from campaigns.models import Referral
from campaigns.referrals import referral_record
from members.models import Member, Sanction
from members.services import member_enrol
from points.ledger_sql import Balance
from points.models import Entry
from points.services import (
    Credit,
    Source,
    lock_account,
    points_earn,
    points_earn_together,
    points_redeem,
)
from staff import fraud
from staff.models import FraudFlag
from staff.services import fraud_flag_decide
from tests.factories import MemberFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db
Rule = FraudFlag.Rule
CAMPAIGN = Source(Entry.Source.CAMPAIGN, "double/1")


@pytest.fixture(autouse=True)
def _thresholds(settings):
    settings.FRAUD_POINTS_PER_DAY = 1000
    settings.FRAUD_REDEMPTIONS_PER_HOUR = 3
    settings.FRAUD_REFERRALS_PER_MONTH = 3
    settings.FRAUD_REFUNDED_PERCENT = 50
    settings.FRAUD_REFUNDED_MIN_ORDERS = 4
    settings.FRAUD_MEMBERS_PER_PHONE = 3


def _flags(rule):
    return list(FraudFlag.objects.filter(rule=rule).order_by("member_id"))


def _earn(member, points, key):
    points_earn(member=member, points=points, source=Source(Entry.Source.ORDER, key), key=key)


@pytest.mark.parametrize(("earned", "flagged"), [(999, False), (1000, True)])
def test_points_per_day_on_the_write_path(earned, flagged, django_capture_on_commit_callbacks):
    member = MemberFactory()
    with django_capture_on_commit_callbacks(execute=True):
        _earn(member, earned - 1, "a")
    assert not _flags(Rule.POINTS_PER_DAY)
    with django_capture_on_commit_callbacks(execute=True):
        _earn(member, 1, "b")

    flags = _flags(Rule.POINTS_PER_DAY)
    assert bool(flags) is flagged
    if flagged:
        assert flags[0].member == member
        assert flags[0].evidence["points"] == 1000
        assert flags[0].evidence["threshold"] == 1000
        # Once per member and day: more points that day raise nothing more.
        with django_capture_on_commit_callbacks(execute=True):
            _earn(member, 5, "c")
        assert len(_flags(Rule.POINTS_PER_DAY)) == 1


@pytest.mark.parametrize(("earned", "flagged"), [(999, False), (1000, True)])
def test_points_per_day_of_an_order_s_earnings_with_the_total_its_write_read(
    earned, flagged, django_capture_on_commit_callbacks, monkeypatch
):
    member = MemberFactory()
    with django_capture_on_commit_callbacks(execute=True):
        _earn(member, earned - 100, "a")
    monkeypatch.setattr(fraud, "together", _not_asked)  # the check counts nothing

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        locked = Balance.of(lock_account(member_id=member.pk))
        credits = [Credit(60, Source(Entry.Source.ORDER, "b"), "b"), Credit(40, CAMPAIGN, "b#c")]
        points_earn_together(member=member, credits=credits, locked=locked)

    flags = _flags(Rule.POINTS_PER_DAY)
    assert bool(flags) is flagged
    if flagged:
        assert flags[0].evidence["points"] == 1000


def _not_asked(cursor, statements):
    raise AssertionError("the earnings' own round trip read the day's points")


def test_work_that_rolls_back_is_not_checked(django_capture_on_commit_callbacks):
    member = MemberFactory()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                _earn(member, 5000, "a")
                raise RuntimeError
        except RuntimeError:
            pass
    assert not callbacks
    assert not FraudFlag.objects.exists()


@pytest.mark.parametrize(("redemptions", "flagged"), [(2, False), (3, True)])
def test_redemptions_per_hour(redemptions, flagged, django_capture_on_commit_callbacks):
    member = MemberFactory(email_verified_at=dt.datetime.now(dt.UTC))
    _earn(member, 500, "seed")
    FraudFlag.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(redemptions):
            points_redeem(
                member=member, points=100, source=Source(Entry.Source.REWARD, "r"), key=f"r{n}"
            )
    flags = _flags(Rule.REDEMPTIONS_PER_HOUR)
    assert bool(flags) is flagged
    if flagged:
        assert flags[0].evidence["redemptions"] == 3
        assert flags[0].evidence["points"] == 300


def test_redemptions_more_than_an_hour_apart_are_not_counted(django_capture_on_commit_callbacks):
    member = MemberFactory(email_verified_at=dt.datetime.now(dt.UTC))
    _earn(member, 500, "seed")
    start = dt.datetime.now(dt.UTC)
    with django_capture_on_commit_callbacks(execute=True):
        for n, minutes in enumerate([0, 40, 61]):
            with time_machine.travel(start + dt.timedelta(minutes=minutes), tick=False):
                points_redeem(
                    member=member, points=100, source=Source(Entry.Source.REWARD, "r"), key=f"r{n}"
                )
    assert not _flags(Rule.REDEMPTIONS_PER_HOUR)


@pytest.mark.parametrize(("referrals", "flagged"), [(2, False), (3, True)])
def test_referrals_per_referrer_per_month(referrals, flagged, django_capture_on_commit_callbacks):
    referrer = MemberFactory()
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(referrals):
            referral_record(referee=MemberFactory(), referrer=referrer)
    flags = _flags(Rule.REFERRALS_PER_MONTH)
    assert [f.member for f in flags] == ([referrer] if flagged else [])
    if flagged:
        assert flags[0].evidence["referrals"] == 3


@pytest.mark.parametrize(("members", "flagged"), [(2, False), (3, True)])
def test_several_members_on_one_phone(members, flagged, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        enrolled = [
            member_enrol(external_id=f"c{n}", phone="+8613800000000")[0] for n in range(members)
        ]
    flags = _flags(Rule.SHARED_PHONE)
    assert [f.member for f in flags] == (enrolled if flagged else [])
    if flagged:
        assert flags[0].evidence["members"] == [m.number for m in enrolled]


# The nightly review

AS_OF = dt.date(2026, 11, 20)


def _review():
    with time_machine.travel(program_midnight(AS_OF) + dt.timedelta(minutes=10), tick=False):
        run = job_run(name="fraud_review", as_of=AS_OF)
    assert run.status == "succeeded", run.error
    return run


@pytest.mark.parametrize(("refunded", "flagged"), [(1, False), (2, True)])
def test_share_of_orders_refunded_in_full_nightly(refunded, flagged):
    member = MemberFactory()
    placed = program_midnight(AS_OF) - dt.timedelta(days=10)
    for n in range(4):
        full = n < refunded
        OrderFactory(
            member=member,
            placed_at=placed,
            total_minor=10_000,
            refunded_minor=10_000 if full else 0,
        )
    # A partial refund is not a refund in full; an order older than 90 days is not counted.
    OrderFactory(member=member, placed_at=placed, total_minor=10_000, refunded_minor=5_000)
    OrderFactory(
        member=member,
        placed_at=placed - dt.timedelta(days=100),
        total_minor=10_000,
        refunded_minor=10_000,
    )
    # 2 of 5 orders (40%) refunded in full is below 50%; add one more in full: 3 of 6.
    if flagged:
        OrderFactory(member=member, placed_at=placed, total_minor=10_000, refunded_minor=10_000)

    _review()

    flags = _flags(Rule.REFUNDED_SHARE)
    assert bool(flags) is flagged
    if flagged:
        assert flags[0].evidence["orders"] == 6
        assert flags[0].evidence["refunded_in_full"] == 3
        assert flags[0].evidence["percent"] == 50


def test_too_few_orders_are_not_a_share():
    member = MemberFactory()
    placed = program_midnight(AS_OF) - dt.timedelta(days=1)
    for _ in range(3):
        OrderFactory(member=member, placed_at=placed, total_minor=100, refunded_minor=100)
    _review()
    assert not _flags(Rule.REFUNDED_SHARE)


@pytest.mark.parametrize(("earned", "flagged"), [(999, False), (1000, True)])
def test_points_per_day_nightly(earned, flagged):
    member = MemberFactory()
    with time_machine.travel(program_midnight(AS_OF) - dt.timedelta(hours=2), tick=False):
        _earn(member, earned, "a")
    with time_machine.travel(program_midnight(AS_OF) - dt.timedelta(days=1, hours=2), tick=False):
        _earn(member, 900, "b")  # the day before: another day
    FraudFlag.objects.all().delete()  # leave the write path's flags out

    _review()

    flags = _flags(Rule.POINTS_PER_DAY)
    assert bool(flags) is flagged
    if flagged:
        assert flags[0].period == "2026-11-19"


@pytest.mark.parametrize(("referrals", "flagged"), [(2, False), (3, True)])
def test_referrals_nightly(referrals, flagged):
    referrer = MemberFactory()
    for n in range(referrals):
        Referral.objects.create(
            referee=MemberFactory(),
            referrer=referrer,
            created_at=program_midnight(AS_OF) - dt.timedelta(days=n + 1),
        )
    _review()
    assert bool(_flags(Rule.REFERRALS_PER_MONTH)) is flagged


@pytest.mark.parametrize(("members", "flagged"), [(2, False), (3, True)])
def test_shared_phone_nightly(members, flagged):
    sharing = [MemberFactory(phone="+8613911112222") for _ in range(members)]
    MemberFactory(phone="")
    _review()
    assert [f.member for f in _flags(Rule.SHARED_PHONE)] == (sharing if flagged else [])


def test_a_second_review_raises_nothing_new():
    for _ in range(3):
        MemberFactory(phone="+8613911112222")
    first = _review()
    assert first.counts["members_flagged"] == 3
    with time_machine.travel(program_midnight(AS_OF) + dt.timedelta(hours=1), tick=False):
        job_run(name="fraud_review", as_of=AS_OF, chunk_size=2)
    assert FraudFlag.objects.count() == 3


# The review queue


@pytest.fixture
def flag():
    return FraudFlag.objects.create(
        member=MemberFactory(),
        rule=Rule.POINTS_PER_DAY,
        period="2026-11-19",
        evidence={"points": 5000},
    )


def test_staff_clear_a_flag_with_a_note(flag):
    staff = UserFactory(is_staff=True)
    with pytest.raises(ValidationError) as refused:
        fraud_flag_decide(flag=flag, decision="clear", note="  ", actor=staff)
    assert refused.value.error_dict["note"][0].code == "note_required"

    decided = fraud_flag_decide(flag=flag, decision="clear", note="a wholesale buyer", actor=staff)

    assert (decided.status, decided.note, decided.resolved_by) == (
        "cleared",
        "a wholesale buyer",
        staff,
    )
    assert decided.member.status == Member.Status.ACTIVE
    assert not Sanction.objects.exists()
    with pytest.raises(ValidationError) as again:
        fraud_flag_decide(flag=flag, decision="freeze", note="changed my mind", actor=staff)
    assert again.value.code == "flag_decided"
    assert not Sanction.objects.exists()


def test_staff_sanction_from_a_flag(flag):
    staff = UserFactory(is_staff=True)

    decided = fraud_flag_decide(flag=flag, decision="freeze", note="card testing", actor=staff)

    assert decided.status == "sanctioned"
    assert decided.sanction.kind == "freeze" and decided.sanction.reason == "card testing"
    flag.member.refresh_from_db()
    assert flag.member.status == Member.Status.FROZEN


def test_lifting_is_not_a_decision_on_a_flag(flag):
    with pytest.raises(ValidationError):
        fraud_flag_decide(flag=flag, decision="lift", note="x", actor=UserFactory(is_staff=True))
    flag.refresh_from_db()
    assert flag.status == "open"


def test_the_review_queue_in_the_admin(admin_client, flag):
    FraudFlag.objects.create(
        member=MemberFactory(), rule=Rule.SHARED_PHONE, period="+86", status="cleared", note="ok"
    )
    queue = admin_client.get(reverse("admin:staff_fraudflag_changelist"))
    assert queue.status_code == 200
    assert [f.pk for f in queue.context["cl"].result_list] == [flag.pk]  # open ones only
    page = admin_client.get(reverse("admin:staff_fraudflag_change", args=[flag.pk]))
    decide = reverse("admin:staff_fraudflag_decide", args=[flag.pk])
    assert decide in page.content.decode() and "5000" in page.content.decode()

    refused = admin_client.post(decide, {"decision": "restrict", "note": ""})
    assert refused.status_code == 200 and refused.context["form"].errors["note"]
    done = admin_client.post(decide, {"decision": "restrict", "note": "refund abuse"})

    assert done.status_code == 302
    flag.refresh_from_db()
    assert flag.status == "sanctioned"
    member_page = admin_client.get(reverse("admin:members_member_change", args=[flag.member.pk]))
    text = member_page.content.decode()
    assert "refund abuse" in text  # the sanction on the timeline, and the flag's note


def test_staff_without_the_permission_cannot_decide(client, flag):
    client.force_login(UserFactory(is_staff=True))
    response = client.post(
        reverse("admin:staff_fraudflag_decide", args=[flag.pk]), {"decision": "clear", "note": "x"}
    )
    assert response.status_code == 403
    flag.refresh_from_db()
    assert flag.status == "open"
