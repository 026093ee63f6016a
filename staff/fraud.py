"""Fraud rules: velocity and pattern checks that put a member on the review queue
(FraudFlag) with the evidence, for staff to clear or sanction. They never refuse
the work itself: a flag is a question for a person.

- points_per_day: points earned (available or pending) on one programme day,
  FRAUD_POINTS_PER_DAY (5000);
- redemptions_per_hour: redemptions of points in the last 60 minutes,
  FRAUD_REDEMPTIONS_PER_HOUR (5);
- referrals_per_month: referrals one referrer made in a programme month,
  FRAUD_REFERRALS_PER_MONTH (10);
- refunded_share: the percent of the orders of the last 90 days refunded in full,
  FRAUD_REFUNDED_PERCENT (50), among at least FRAUD_REFUNDED_MIN_ORDERS (4);
- shared_phone: members enrolled with one phone number, FRAUD_MEMBERS_PER_PHONE (3).

A member is flagged when the count reaches the threshold (not one below). The
cheap ones are checked on the write path, once the work commits (an earning, a
redemption, a referral, an enrolment with a phone; members.services.
member_activity): one indexed count of that member's rows, or none when the
work read it under its lock (an order's points: `points_on_day`). The nightly
`fraud_review` job checks every member set-based (the refunded share, which
reads 90 days of orders, only there), which also catches what the write path
missed. A flag is raised once per member, rule and period (the day, the hour,
the month, the phone number).
"""

import datetime as dt
from collections.abc import Mapping
from typing import Any

import structlog
from django.conf import settings
from django.db import connection
from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from batch.registry import Job, register
from batch.services import program_midnight, program_zone
from campaigns.models import Referral
from members.models import Member
from points.ledger_sql import earned, earned_since_statement, together
from points.models import Entry
from shop.models import Order

from .models import FraudFlag
from .services import fraud_flags_raise

Rule = FraudFlag.Rule
REFUNDED_WINDOW_DAYS = 90
log = structlog.get_logger(__name__)

_EARNED = Coalesce(Sum(F("amount") + F("pending_change")), 0)
_EARNING = (Entry.Kind.EARN, Entry.Kind.PENDING)


# What the work read under its lock that a check would otherwise read again
# (members.services.member_activity).
Facts = Mapping[str, Any]


def _program_day(at: dt.datetime) -> dt.date:
    return timezone.localtime(at, program_zone()).date()


def _month_start(day: dt.date) -> dt.datetime:
    return program_midnight(day.replace(day=1))


def _flag(member_id: int, rule: str, period: str, evidence: dict[str, Any]) -> FraudFlag:
    return FraudFlag(member_id=member_id, rule=rule, period=period, evidence=evidence)


# Every earning and redemption is checked: plain SQL, prepared (points.ledger_sql.
# together), as the ledger's own statements are; through the ORM the check cost
# an order more Python than its own writes. An order's earnings arrive with the
# day's total, read in their own round trip (`points_on_day`), and ask nothing.


def points_per_day(member_id: int, now: dt.datetime, facts: Facts) -> list[FraudFlag]:
    """The day's earned points: as the work read them (`points_on_day`), or counted."""
    if (on_day := facts.get("points_on_day")) is not None:
        day, points = on_day
    else:
        day = _program_day(now)
        with connection.cursor() as cursor:
            (rows,) = together(cursor, [earned_since_statement(member_id, program_midnight(day))])
        points = earned(rows)
    threshold = settings.FRAUD_POINTS_PER_DAY
    if points < threshold:
        return []
    evidence = {"day": day.isoformat(), "points": points, "threshold": threshold}
    return [_flag(member_id, Rule.POINTS_PER_DAY, day.isoformat(), evidence)]


_REDEEMED_BETWEEN = f"""
    SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM {Entry._meta.db_table}
    WHERE member_id = %s AND kind = %s AND created_at > %s AND created_at <= %s
"""  # noqa: S608 - the table name is the model's, values are parameters


def redemptions_per_hour(member_id: int, now: dt.datetime, _facts: Facts) -> list[FraudFlag]:
    since = now - dt.timedelta(hours=1)
    adapt = connection.ops.adapt_datetimefield_value
    params = [member_id, Entry.Kind.REDEEM, adapt(since), adapt(now)]
    with connection.cursor() as cursor:
        (((count, points),),) = together(cursor, [(_REDEEMED_BETWEEN, params)])
    threshold = settings.FRAUD_REDEMPTIONS_PER_HOUR
    if count < threshold:
        return []
    period = timezone.localtime(now, program_zone()).strftime("%Y-%m-%dT%H")
    evidence = {
        "since": since.isoformat(),
        "redemptions": count,
        "points": -int(points),
        "threshold": threshold,
    }
    return [_flag(member_id, Rule.REDEMPTIONS_PER_HOUR, period, evidence)]


def referrals_per_month(member_id: int, now: dt.datetime, _facts: Facts) -> list[FraudFlag]:
    day = _program_day(now)
    referrals = Referral.objects.filter(referrer_id=member_id, created_at__gte=_month_start(day))
    count = referrals.count()
    threshold = settings.FRAUD_REFERRALS_PER_MONTH
    if count < threshold:
        return []
    month = day.strftime("%Y-%m")
    evidence = {"month": month, "referrals": count, "threshold": threshold}
    return [_flag(member_id, Rule.REFERRALS_PER_MONTH, month, evidence)]


def shared_phone(member_id: int, now: dt.datetime, _facts: Facts) -> list[FraudFlag]:
    phone = Member.objects.filter(pk=member_id).values_list("phone", flat=True).first()
    if not phone:
        return []
    sharing = list(
        Member.objects.filter(phone=phone).order_by("pk").values_list("pk", "number")[:50]
    )
    threshold = settings.FRAUD_MEMBERS_PER_PHONE
    if len(sharing) < threshold:
        return []
    evidence = {
        "phone": phone,
        "members": [number for _pk, number in sharing],
        "threshold": threshold,
    }
    return [_flag(pk, Rule.SHARED_PHONE, phone, evidence) for pk, _number in sharing]


# What each activity of the write path is checked for.
_ON_ACTIVITY = {
    "earn": (points_per_day,),
    "redeem": (redemptions_per_hour,),
    "referral": (referrals_per_month,),
    "enrol": (shared_phone,),
}


def fraud_on_activity(member_id: int, activity: str, facts: Facts) -> None:
    """The write path's checks (an activity hook, run after the work commits)."""
    now = timezone.now()
    checks = _ON_ACTIVITY.get(activity, ())
    flags = [flag for check in checks for flag in check(member_id, now, facts)]
    if flags:
        raised = fraud_flags_raise(flags=flags)
        log.info("fraud_flagged", member_id=member_id, activity=activity, raised=raised)


# The nightly review: every rule over a chunk of members, set-based.


def _nightly_points_per_day(as_of: dt.date, first_id: int, last_id: int) -> list[FraudFlag]:
    day = as_of - dt.timedelta(days=1)
    threshold = settings.FRAUD_POINTS_PER_DAY
    rows = (
        Entry.objects.filter(
            member_id__gte=first_id,
            member_id__lte=last_id,
            kind__in=_EARNING,
            created_at__gte=program_midnight(day),
            created_at__lt=program_midnight(as_of),
        )
        .values("member_id")
        .annotate(points=_EARNED)
        .filter(points__gte=threshold)
    )
    return [
        _flag(
            row["member_id"],
            Rule.POINTS_PER_DAY,
            day.isoformat(),
            {"day": day.isoformat(), "points": row["points"], "threshold": threshold},
        )
        for row in rows
    ]


def _nightly_referrals(as_of: dt.date, first_id: int, last_id: int) -> list[FraudFlag]:
    day = as_of - dt.timedelta(days=1)
    month = day.strftime("%Y-%m")
    threshold = settings.FRAUD_REFERRALS_PER_MONTH
    rows = (
        Referral.objects.filter(
            referrer_id__gte=first_id,
            referrer_id__lte=last_id,
            created_at__gte=_month_start(day),
            created_at__lt=program_midnight(as_of),
        )
        .values("referrer_id")
        .annotate(n=Count("pk"))
        .filter(n__gte=threshold)
    )
    return [
        _flag(
            row["referrer_id"],
            Rule.REFERRALS_PER_MONTH,
            month,
            {"month": month, "referrals": row["n"], "threshold": threshold},
        )
        for row in rows
    ]


def _nightly_refunded_share(as_of: dt.date, first_id: int, last_id: int) -> list[FraudFlag]:
    end = program_midnight(as_of)
    since = end - dt.timedelta(days=REFUNDED_WINDOW_DAYS)
    percent, minimum = settings.FRAUD_REFUNDED_PERCENT, settings.FRAUD_REFUNDED_MIN_ORDERS
    rows = (
        Order.objects.filter(
            member_id__gte=first_id,
            member_id__lte=last_id,
            placed_at__gte=since,
            placed_at__lt=end,
        )
        .values("member_id")
        .annotate(
            orders=Count("pk"),
            refunded=Count("pk", filter=Q(total_minor__gt=0, refunded_minor=F("total_minor"))),
        )
        .filter(orders__gte=minimum, refunded__gte=1)
    )
    month = as_of.strftime("%Y-%m")
    flags = []
    for row in rows:
        if row["refunded"] * 100 < percent * row["orders"]:
            continue
        evidence = {
            "since": since.date().isoformat(),
            "orders": row["orders"],
            "refunded_in_full": row["refunded"],
            "percent": row["refunded"] * 100 // row["orders"],
            "threshold_percent": percent,
        }
        flags.append(_flag(row["member_id"], Rule.REFUNDED_SHARE, month, evidence))
    return flags


def _nightly_shared_phone(as_of: dt.date, first_id: int, last_id: int) -> list[FraudFlag]:
    threshold = settings.FRAUD_MEMBERS_PER_PHONE
    sharing = (
        Member.objects.filter(phone=OuterRef("phone"))
        .order_by()
        .values("phone")
        .annotate(n=Count("pk"))
        .values("n")
    )
    rows = (
        Member.objects.filter(pk__gte=first_id, pk__lte=last_id)
        .exclude(phone="")
        .annotate(sharing=Subquery(sharing))
        .filter(sharing__gte=threshold)
        .values_list("pk", "phone", "sharing")
    )
    return [
        _flag(pk, Rule.SHARED_PHONE, phone, {"phone": phone, "members": n, "threshold": threshold})
        for pk, phone, n in rows
    ]


def fraud_review(as_of: dt.date, first_id: int, last_id: int) -> dict[str, int]:
    """The nightly job's chunk: every rule over the members first_id..last_id
    for the day before `as_of` (the month so far, the 90 days before)."""
    flags = [
        *_nightly_points_per_day(as_of, first_id, last_id),
        *_nightly_referrals(as_of, first_id, last_id),
        *_nightly_refunded_share(as_of, first_id, last_id),
        *_nightly_shared_phone(as_of, first_id, last_id),
    ]
    return {"members_flagged": fraud_flags_raise(flags=flags)}


def register_jobs() -> None:
    register(Job("fraud_review", 100, fraud_review, "members the fraud rules flag, for review"))
