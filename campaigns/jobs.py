"""The campaign jobs of the night, run per chunk of member ids by the batch
framework: `birthdays`, `challenges` and `win_back` (and `segments`, in
campaigns.segments).

Who is due is one query per chunk and campaign (the ORM says it: a filter on
the members, or an aggregate of their orders); members who already have the
campaign's grant for the period are left out in that query, so a second run
finds nobody. Each due member is then credited through the ledger's one write
path (campaigns.grants): a handful a night per campaign, and the grant's
unique row and the ledger's key make twice impossible.
"""

import datetime as dt
from collections.abc import Callable
from itertools import pairwise
from typing import TypeVar

from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet, Sum

from batch.registry import Job, register
from batch.services import program_midnight
from members.models import Member
from personalisation.models import MemberTag
from shop.models import Order
from tiers.models import Subscription
from tiers.selectors import tiers_by_rank

from .documents import Birthday, Challenge, Common, Document, WinBack, document_parse
from .grants import Grant, campaign_grant
from .models import Campaign, CampaignGrant
from .rules import MemberFacts, in_control, in_window
from .selectors import near_next_tier

BIRTHDAY_ON_FILE_DAYS = 30
D = TypeVar("D", bound=Common)


def campaigns_in_window(kind: str, model: type[D], at: dt.datetime) -> list[tuple[int, D]]:
    """The active campaigns of `kind` (documents of class `model`), in their
    window at `at`."""
    rows = Campaign.objects.filter(active=True, kind=kind).values_list("id", "document")
    documents = [(pk, document_parse(doc)) for pk, doc in rows]
    return [(pk, d) for pk, d in documents if isinstance(d, model) and in_window(d, at)]


def targeted_members(
    members: QuerySet[Member], document: Common, at: dt.datetime
) -> QuerySet[Member]:
    """The members the campaign's target names (tiers, lifecycle, tags, paid plan),
    active ones only."""
    target = document.target
    members = members.filter(status=Member.Status.ACTIVE)
    if target.tiers:
        members = members.filter(tier_state__tier__code__in=target.tiers)
    if target.segments:
        members = members.filter(segment__lifecycle__in=target.segments)
    if target.tags:
        tagged = MemberTag.objects.filter(member=OuterRef("pk"), tag__in=target.tags)
        members = members.filter(Exists(tagged))
    if target.paid_plan is not None:
        running = Subscription.objects.filter(
            member=OuterRef("pk"),
            plan__code=target.paid_plan,
            status=Subscription.Status.ACTIVE,
            starts_at__lte=at,
            ends_at__gt=at,
        )
        members = members.filter(Exists(running))
    return members


def _not_granted(members: QuerySet[Member], campaign_id: int, period: str) -> QuerySet[Member]:
    granted = CampaignGrant.objects.filter(
        campaign_id=campaign_id, member=OuterRef("pk"), period=period
    )
    return members.exclude(Exists(granted))


def _sprinting(members: list[Member]) -> set[int]:
    """The members within TIER_NUDGE_PERCENT of the next tier's spend."""
    tiers = tiers_by_rank()
    next_threshold = {low.pk: high.threshold_minor for low, high in pairwise(tiers)}
    return {
        m.pk
        for m in members
        if hasattr(m, "tier_state")
        and near_next_tier(
            spend_minor=m.tier_state.spend_minor,
            next_threshold_minor=next_threshold.get(m.tier_state.tier_id),
        )
    }


def _grant_all(
    campaign_id: int,
    document: Document,
    members: QuerySet[Member],
    period: Callable[[Member], str],
    points: int = 0,
    reward: str | None = None,
) -> int:
    """Grant each member the campaign's points for their period, but the control
    variant of an A/B test and, for a sprint, those not near the next tier."""
    due = list(members.select_related("tier_state").order_by("pk"))
    sprinting = _sprinting(due) if document.target.sprint else None
    granted = 0
    for member in due:
        if in_control(document, MemberFacts(number=member.number)):
            continue
        if sprinting is not None and member.pk not in sprinting:
            continue
        grant = Grant(member=member, period=period(member), points=points, reward=reward)
        granted += campaign_grant(campaign_id=campaign_id, document=document, grant=grant)
    return granted


def birthday_days(as_of: dt.date) -> list[tuple[int, int]]:
    """The (month, day) birthdays celebrated on `as_of`: 29 February on 28
    February in the years without one."""
    days = [(as_of.month, as_of.day)]
    if (as_of.month, as_of.day) == (2, 28):
        try:
            dt.date(as_of.year, 2, 29)
        except ValueError:
            days.append((2, 29))
    return days


def birthdays(as_of: dt.date, first_id: int, last_id: int) -> dict[str, int]:
    """Members whose birthday is `as_of` (and has been on file for 30 days) get
    each active birthday campaign's gift, once a year."""
    midnight = program_midnight(as_of)
    on_file_by = program_midnight(as_of - dt.timedelta(days=BIRTHDAY_ON_FILE_DAYS))
    on_the_day = Q()
    for month, day in birthday_days(as_of):
        on_the_day |= Q(birthday__month=month, birthday__day=day)
    granted, year = 0, str(as_of.year)
    for campaign_id, document in campaigns_in_window(Campaign.Kind.BIRTHDAY, Birthday, midnight):
        members = Member.objects.filter(
            on_the_day, pk__range=(first_id, last_id), birthday_set_at__lte=on_file_by
        )
        members = _not_granted(targeted_members(members, document, midnight), campaign_id, year)
        gift = document.reward
        granted += _grant_all(
            campaign_id, document, members, lambda _m: year, gift.points or 0, gift.reward
        )
    return {"birthday_gifts": granted}


def challenges(as_of: dt.date, first_id: int, last_id: int) -> dict[str, int]:
    """Members who met an active challenge (its number of orders, its spend, or
    both, in the `within_days` before the night and since the campaign began)
    get its points, once."""
    midnight = program_midnight(as_of)
    granted = 0
    for campaign_id, document in campaigns_in_window(Campaign.Kind.CHALLENGE, Challenge, midnight):
        terms = document.challenge
        since = program_midnight(as_of - dt.timedelta(days=terms.within_days))
        if document.starts_at is not None:
            since = max(since, document.starts_at)
        met = (
            Order.objects.filter(
                member_id__gte=first_id,
                member_id__lte=last_id,
                placed_at__gte=since,
                placed_at__lt=midnight,
                total_minor__gt=F("refunded_minor"),
            )
            .values("member_id")
            .annotate(n=Count("id"), spend=Sum(F("total_minor") - F("refunded_minor")))
        )
        if terms.orders is not None:
            met = met.filter(n__gte=terms.orders)
        if terms.spend_minor is not None:
            met = met.filter(spend__gte=terms.spend_minor)
        members = Member.objects.filter(pk__in=met.values("member_id"))
        members = _not_granted(targeted_members(members, document, midnight), campaign_id, "once")
        points = document.reward.points
        granted += _grant_all(campaign_id, document, members, lambda _m: "once", points)
    return {"challenges_met": granted}


def _dormant(
    as_of: dt.date, first_id: int, last_id: int, dormant_days: int
) -> dict[int, dt.datetime]:
    """The members of the chunk whose last counted order before the night is
    `dormant_days` old or more, with that order's time: one GROUP BY over the
    chunk's orders."""
    midnight = program_midnight(as_of)
    dormant_since = program_midnight(as_of - dt.timedelta(days=dormant_days))
    last_orders = (
        Order.objects.filter(
            member_id__gte=first_id,
            member_id__lte=last_id,
            placed_at__lt=midnight,
            total_minor__gt=F("refunded_minor"),
        )
        .values("member_id")
        .annotate(last=Max("placed_at"))
        .filter(last__lt=dormant_since)
        .values_list("member_id", "last")
    )
    return dict(last_orders)


def _dormancy(last: dt.datetime) -> str:
    """A dormancy is named by the last order before it."""
    return f"after:{last.isoformat()}"


def _dormancy_of(lasts: dict[int, dt.datetime]) -> Callable[[Member], str]:
    return lambda member: _dormancy(lasts[member.pk])


def win_back(as_of: dt.date, first_id: int, last_id: int) -> dict[str, int]:
    """Members whose last order is `dormant_days` old or more get the campaign's
    offer, once per dormancy (a new order and a new dormancy: a new offer).

    Set-based: per campaign, one aggregate of the chunk's orders finds the
    dormant and their last order, one query the offers already made for those
    dormancies, one the targeted members among the rest."""
    midnight = program_midnight(as_of)
    granted = 0
    for campaign_id, document in campaigns_in_window(Campaign.Kind.WIN_BACK, WinBack, midnight):
        dormant = _dormant(as_of, first_id, last_id, document.win_back.dormant_days)
        if not dormant:
            continue
        offered = set(
            CampaignGrant.objects.filter(
                campaign_id=campaign_id,
                member_id__in=list(dormant),
                period__in={_dormancy(last) for last in dormant.values()},
            ).values_list("member_id", "period")
        )
        due = [pk for pk, last in dormant.items() if (pk, _dormancy(last)) not in offered]
        members = targeted_members(Member.objects.filter(pk__in=due), document, midnight)
        gift = document.reward
        granted += _grant_all(
            campaign_id,
            document,
            members,
            _dormancy_of(dormant),
            gift.points or 0,
            gift.reward,
        )
    return {"win_back_offers": granted}


def register_jobs() -> None:
    register(Job("birthdays", 70, birthdays, "birthday gifts, once a year"))
    register(Job("challenges", 80, challenges, "challenges met get their points, once"))
    register(Job("win_back", 90, win_back, "offers to dormant members, once per dormancy"))
