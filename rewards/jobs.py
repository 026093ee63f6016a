"""The nightly `tier_coupons` job: the tier benefits that are coupons, issued
once per member and period, per chunk of member ids by the batch framework.

- A monthly free-shipping coupon for members whose tier has free shipping (Gold
  and up by default) or whose running paid plan has it, valid to the end of the
  programme's month (`source_ref` "free_shipping:YYYY-MM": one a month, whether
  the tier, the plan or both give it).
- A birthday gift coupon for members whose tier (Silver and up) or running paid
  plan has a birthday gift, on their birthday (29 February: the 28th in other
  years), if the birthday has been on file for BIRTHDAY_ON_FILE_DAYS, valid
  BIRTHDAY_COUPON_DAYS (`source_ref` "birthday:YYYY").

A chunk is one query for the members due and one bulk insert; the unique
(owner, source_ref) of tier coupons makes a second run, or two at once, issue
nothing more (ON CONFLICT DO NOTHING), and a clash of random codes is made up
by the next round. The coupons issued are announced (`coupon.issued`) in the
chunk's transaction.
"""

import calendar
import datetime as dt

from django.db.models import Exists, OuterRef, Q, QuerySet

from batch.registry import Job, register
from batch.services import program_midnight
from members.models import Member
from tiers.models import MemberTier, Subscription

from .messages import coupons_issued_announce
from .models import Coupon, CouponKind
from .services.coupons import code_generate, coupon_expiry

BIRTHDAY_COUPON_DAYS = 30
BIRTHDAY_ON_FILE_DAYS = 30
_ROUNDS = 5


def _first_of_next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _missing(due: QuerySet[MemberTier], source_ref: str) -> list[int]:
    issued = Coupon.objects.filter(source=Coupon.Source.TIER, source_ref=source_ref)
    return list(
        due.exclude(member_id__in=issued.values("owner_id")).values_list("member_id", flat=True)
    )


def _issue(
    due: QuerySet[MemberTier], *, kind: str, source_ref: str, expires_at: dt.datetime
) -> int:
    """Issue one coupon to each member of `due` that has none for `source_ref`;
    returns how many were issued."""
    missing = _missing(due, source_ref)
    wanted = set(missing)
    for _round in range(_ROUNDS):
        if not missing:
            break
        Coupon.objects.bulk_create(
            [
                Coupon(
                    code=code_generate(),
                    kind=kind,
                    uses_allowed=1,
                    expires_at=expires_at,
                    owner_id=member_id,
                    source=Coupon.Source.TIER,
                    source_ref=source_ref,
                )
                for member_id in missing
            ],
            ignore_conflicts=True,
        )
        missing = _missing(due, source_ref)
    issued = wanted - set(missing)
    coupons_issued_announce(
        coupons=Coupon.objects.filter(
            source=Coupon.Source.TIER, source_ref=source_ref, owner_id__in=issued
        )
    )
    return len(issued)


def _plan_gives(benefit: str, at: dt.datetime) -> Exists:
    """The member's paid plan runs at `at` and has `benefit`."""
    return Exists(
        Subscription.objects.filter(
            member=OuterRef("member_id"),
            status=Subscription.Status.ACTIVE,
            starts_at__lte=at,
            ends_at__gt=at,
            **{f"plan__{benefit}": True},
        )
    )


def tier_coupons(as_of: dt.date, first_id: int, last_id: int) -> dict[str, int]:
    members = MemberTier.objects.filter(
        member_id__gte=first_id, member_id__lte=last_id, member__status=Member.Status.ACTIVE
    )
    midnight = program_midnight(as_of)
    free_shipping = _issue(
        members.filter(Q(tier__free_shipping=True) | _plan_gives("free_shipping", midnight)),
        kind=CouponKind.FREE_SHIPPING,
        source_ref=f"free_shipping:{as_of:%Y-%m}",
        expires_at=program_midnight(_first_of_next_month(as_of)),
    )
    born_today = Q(member__birthday__month=as_of.month, member__birthday__day=as_of.day)
    if (as_of.month, as_of.day) == (2, 28) and not calendar.isleap(as_of.year):
        born_today |= Q(member__birthday__month=2, member__birthday__day=29)
    on_file_since = program_midnight(as_of - dt.timedelta(days=BIRTHDAY_ON_FILE_DAYS))
    birthday = _issue(
        members.filter(
            Q(tier__birthday_gift=True) | _plan_gives("birthday_gift", midnight),
            born_today,
            member__birthday_set_at__lte=on_file_since,
        ),
        kind=CouponKind.GIFT,
        source_ref=f"birthday:{as_of.year}",
        expires_at=coupon_expiry(last_day=as_of + dt.timedelta(days=BIRTHDAY_COUPON_DAYS - 1)),
    )
    return {"free_shipping_coupons": free_shipping, "birthday_coupons": birthday}


def register_jobs() -> None:
    register(Job("tier_coupons", 60, tier_coupons, "tier benefit coupons issued"))
