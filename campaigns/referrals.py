"""Referral: a new member names a referrer's code (the `/r/{code}` link before
sign-up, or `referral_code` on the shop's enrolment); both are credited by the
nightly `referrals` job once the referee's first order's points are released
(after `release_pending`), by the active `referral` campaign with the highest
priority.

Referring oneself (the same member, e-mail, phone or shop customer id) is
recorded as refused and earns nothing; a first order refunded in full pays
nothing; a referrer is paid for at most `monthly_cap` referrals a programme
month (the referee is paid all the same).
"""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
)
from django.http import HttpRequest
from django.utils import timezone

from batch.registry import Job, register
from batch.services import program_midnight
from members.models import Member, User
from members.services import member_activity
from shop.errors import NotFound
from shop.models import Order

from .documents import Referral as ReferralDocument
from .grants import Grant, campaign_grant
from .jobs import campaigns_in_window
from .models import Campaign, CampaignGrant, Referral

SESSION_KEY = "referral_code"


def referrer_find(*, code: str) -> Member:
    """The member whose referral code is `code` (any case), or NotFound."""
    referrer = Member.objects.filter(referral_code=code.strip().upper()).first()
    if referrer is None:
        raise NotFound(
            "No member has this referral code.", fields={"referral_code": "Unknown code."}
        )
    return referrer


def _same_person(referrer: Member, referee: Member) -> bool:
    if referrer.pk == referee.pk:
        return True
    if referrer.phone and referrer.phone == referee.phone:
        return True
    if referrer.external_id and referrer.external_id == referee.external_id:
        return True
    emails = [m.user.email.lower() for m in (referrer, referee) if m.user.email]
    return len(emails) == 2 and emails[0] == emails[1]


def referral_record(*, referee: Member, referrer: Member) -> Referral:
    """Record that `referee` joined through `referrer`: once (a member is
    referred by one member), refused at once when it is the same person."""
    refused = _same_person(referrer, referee)
    try:
        with transaction.atomic():
            referral = Referral.objects.create(
                referee=referee,
                referrer=referrer,
                status=Referral.Status.REFUSED if refused else Referral.Status.PENDING,
                reason="self_referral" if refused else "",
            )
            member_activity(member_id=referrer.pk, activity="referral")
            return referral
    except IntegrityError:
        return Referral.objects.get(referee=referee)


def referral_on_signup(*, request: HttpRequest, user: User) -> None:
    """A sign-up in the portal after following a `/r/{code}` link: the code kept
    in the session (or its cookie) refers the new member."""
    code = request.session.pop(SESSION_KEY, None) or request.COOKIES.get(SESSION_KEY)
    member = Member.objects.filter(user=user).first()
    if not code or member is None:
        return
    referrer = Member.objects.filter(referral_code=str(code).upper()).first()
    if referrer is not None:
        referral_record(referee=member, referrer=referrer)


def _month(as_of: dt.date) -> tuple[dt.datetime, dt.datetime]:
    first = as_of.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return program_midnight(first), program_midnight(following)


def referrals(as_of: dt.date, first_id: int, last_id: int) -> dict[str, int]:
    """Credit the pending referrals of referees `first_id`..`last_id` whose first
    order's return window closed before the night (its points released), or
    refuse them when that order was refunded in full."""
    midnight = program_midnight(as_of)
    campaigns = campaigns_in_window("referral", ReferralDocument, midnight)
    if not campaigns:
        return {}
    campaign_id, document = max(campaigns, key=lambda c: c[1].priority)
    first_order = Order.objects.filter(member=OuterRef("referee")).order_by("placed_at", "id")
    released_by = midnight - dt.timedelta(days=settings.RETURN_WINDOW_DAYS)
    due = (
        Referral.objects.filter(
            status=Referral.Status.PENDING, referee_id__gte=first_id, referee_id__lte=last_id
        )
        .annotate(
            placed_at=Subquery(first_order.values("placed_at")[:1]),
            refunded_in_full=Subquery(
                first_order.annotate(
                    full=ExpressionWrapper(
                        Q(refunded_minor__gte=F("total_minor")), output_field=BooleanField()
                    )
                ).values("full")[:1]
            ),
        )
        .filter(placed_at__lte=released_by)
        .select_related("referee", "referrer")
    )
    counts = {"referrals_credited": 0, "referrals_refused": 0}
    terms = document.referral
    month_start, month_end = _month(as_of)
    for referral in due:
        with transaction.atomic():
            refused = bool(referral.refunded_in_full)
            status = Referral.Status.REFUSED if refused else Referral.Status.CREDITED
            decided = Referral.objects.filter(
                pk=referral.pk, status=Referral.Status.PENDING
            ).update(
                status=status, reason="first_order_refunded" if refused else "", decided_on=as_of
            )
            if not decided or refused:
                counts["referrals_refused"] += bool(decided)
                continue
            referee = Grant(member=referral.referee, period="referee", points=terms.referee_points)
            campaign_grant(campaign_id=campaign_id, document=document, grant=referee)
            paid_this_month = CampaignGrant.objects.filter(
                campaign_id=campaign_id,
                member=referral.referrer,
                period__startswith="referrer:",
                created_at__gte=month_start,
                created_at__lt=month_end,
            ).count()
            if paid_this_month < terms.monthly_cap:
                referrer = Grant(
                    member=referral.referrer,
                    period=f"referrer:{referral.referee.number}",
                    points=terms.referrer_points,
                )
                campaign_grant(campaign_id=campaign_id, document=document, grant=referrer)
            else:
                Referral.objects.filter(pk=referral.pk).update(reason="monthly_cap")
            counts["referrals_credited"] += 1
    return counts


@dataclass(frozen=True)
class ReferralOffer:
    campaign: Campaign
    referrer_points: int
    referee_points: int


def referral_offer(*, at: dt.datetime | None = None) -> ReferralOffer | None:
    """What the active referral campaign (the highest priority, as the
    `referrals` job pays) gives each side, or None when none runs."""
    campaigns = campaigns_in_window("referral", ReferralDocument, at or timezone.now())
    if not campaigns:
        return None
    campaign_id, document = max(campaigns, key=lambda c: c[1].priority)
    return ReferralOffer(
        campaign=Campaign.objects.get(pk=campaign_id),
        referrer_points=document.referral.referrer_points,
        referee_points=document.referral.referee_points,
    )


@dataclass(frozen=True)
class ReferralMade:
    joined_at: dt.datetime
    state: str  # signed_up, ordered, rewarded, refused


def referrals_made(
    *, member: Member, limit: int = 100
) -> tuple[dict[str, int], list[ReferralMade]]:
    """The members `member` referred, newest first, each with its state: signed
    up, ordered (the first order's points not yet released), rewarded or
    refused; and how many are in each state."""
    referrals = (
        Referral.objects.filter(referrer=member)
        .annotate(ordered=Exists(Order.objects.filter(member=OuterRef("referee"))))
        .order_by("-created_at")
    )
    counts = {"signed_up": 0, "ordered": 0, "rewarded": 0, "refused": 0}
    for status, ordered, count in (
        referrals.order_by().values_list("status", "ordered").annotate(n=Count("pk"))
    ):
        counts[_referral_state(status, ordered)] += count
    made = [
        ReferralMade(
            joined_at=referral.created_at, state=_referral_state(referral.status, referral.ordered)
        )
        for referral in referrals[:limit]
    ]
    return counts, made


def _referral_state(status: str, ordered: bool) -> str:
    if status == Referral.Status.CREDITED:
        return "rewarded"
    if status == Referral.Status.REFUSED:
        return "refused"
    return "ordered" if ordered else "signed_up"


def referrals_export(*, member: Member) -> dict[str, object]:
    """Who referred the member and how many they referred, for their data export."""
    referred_by = Referral.objects.filter(referee=member).select_related("referrer").first()
    counts, _made = referrals_made(member=member, limit=0)
    return {
        "referral_code": member.referral_code,
        "referred_by": referred_by.referrer.number if referred_by else None,
        "referrals_made": counts,
    }


def register_jobs() -> None:
    register(Job("referrals", 35, referrals, "referrals credited once the first order is released"))
