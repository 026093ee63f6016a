"""What campaigns give: their budgets, taken by conditional updates in the
transaction that gives the points, and the grants the nightly jobs and the
referral programme make to members (a birthday gift, a challenge met, a
win-back offer), each once per member and period.

A budget holds under concurrency because it is never read and then written:
the per-member counter is raised by an upsert that does nothing past the cap,
the campaign's counter by an UPDATE guarded by its budget; a transaction that
finds either full gives nothing from that campaign. The rows stay locked until
the transaction ends, so two orders of the same campaign queue on them only
when the campaign has a budget.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from batch.services import program_today
from members.models import Member
from notifications.models import Message
from notifications.services import message_build, messages_queue
from points.expiry import last_usable_day
from points.models import Entry
from points.services import Source, points_earn
from rewards.models import Coupon, Reward
from rewards.services.coupons import coupon_create
from rewards.services.rewards import reward_coupon_spec

from .documents import Document, Signup, document_parse
from .models import Campaign, CampaignGrant, CampaignMemberSpend
from .rules import MemberFacts, in_control, in_window, targeted
from .selectors import member_facts


def campaign_budget_take(
    *, campaign_id: int, document: Document, member_id: int, points: int
) -> bool:
    """Take `points` from the campaign's budgets (per member, then in all) in the
    current transaction; False, and nothing taken, when either cannot pay."""
    per_member, total = document.budget.per_member, document.budget.points
    if per_member is not None:
        if points > per_member:
            return False
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO campaigns_campaignmemberspend (campaign_id, member_id, points)
                VALUES (%s, %s, %s)
                ON CONFLICT (campaign_id, member_id) DO UPDATE
                SET points = campaigns_campaignmemberspend.points + excluded.points
                WHERE campaigns_campaignmemberspend.points + excluded.points <= %s
                """,
                [campaign_id, member_id, points, per_member],
            )
            if cursor.rowcount != 1:
                return False
    if total is None:
        return True
    taken = (
        Campaign.objects.filter(pk=campaign_id)
        .filter(Q(budget_points__isnull=True) | Q(spent__lte=F("budget_points") - points))
        .update(spent=F("spent") + points)
    )
    if taken:
        return True
    if per_member is not None:
        CampaignMemberSpend.objects.filter(campaign_id=campaign_id, member_id=member_id).update(
            points=F("points") - points
        )
    return False


@dataclass(frozen=True)
class Grant:
    """Points, or a coupon of a catalogue reward (`reward`, a code), for a member
    and period."""

    member: Member
    period: str
    points: int = 0
    reward: str | None = None
    effective_at: dt.datetime | None = None


def _coupon_give(document: Document, grant: Grant) -> Coupon:
    """The coupon the reward `grant.reward` issues, owned by the member: a gift
    of the campaign, costing no points."""
    reward = Reward.objects.get(code=grant.reward)
    return coupon_create(
        spec=reward_coupon_spec(reward=reward, issued_on=program_today()),
        source=Coupon.Source.CAMPAIGN,
        source_ref=f"{document.code}:{grant.period}"[:100],
        owner=grant.member,
    )


def campaign_grant(*, campaign_id: int, document: Document, grant: Grant) -> bool:
    """Give one member the campaign's points (or reward's coupon) for `period`,
    once: the grant row (unique per campaign, member and period), the budget and
    the ledger entry (its key unique per member) or the coupon in one
    transaction. False when the member had it already, cannot earn (not active)
    or the budget cannot pay."""
    if grant.member.status != Member.Status.ACTIVE:
        return False
    try:
        with transaction.atomic():
            CampaignGrant.objects.create(
                campaign_id=campaign_id,
                member=grant.member,
                period=grant.period,
                points=grant.points,
                created_at=timezone.now(),
            )
            if grant.reward is not None:
                coupon = _coupon_give(document, grant)
                campaign_message_queue(
                    campaign_id=campaign_id, document=document, grant=grant, coupon=coupon
                )
                return True
            if not campaign_budget_take(
                campaign_id=campaign_id,
                document=document,
                member_id=grant.member.pk,
                points=grant.points,
            ):
                raise _NoBudget
            points_earn(
                member=grant.member,
                points=grant.points,
                source=Source(Entry.Source.CAMPAIGN, document.code),
                key=f"campaign:{document.code}:{grant.period}",
                effective_at=grant.effective_at,
                reason=document.kind,
            )
            campaign_message_queue(campaign_id=campaign_id, document=document, grant=grant)
    except (IntegrityError, _NoBudget):
        return False
    return True


class _NoBudget(Exception):
    pass


GRANTED = "campaigns.granted"


def campaign_message_queue(
    *, campaign_id: int, document: Document, grant: Grant, coupon: Coupon | None = None
) -> None:
    """Tell the member what the campaign gave them, through the outbox, in the
    grant's transaction: once per campaign and period. A win-back offer is
    marketing (consent, cap, quiet hours); a gift or bonus credited to the
    account (birthday, challenge, sign-up, referral) is transactional."""
    kind = (
        Message.Kind.MARKETING
        if document.kind == Campaign.Kind.WIN_BACK
        else Message.Kind.TRANSACTIONAL
    )
    context = {
        "campaign": document.name,
        "kind": document.kind,
        "points": grant.points if coupon is None else 0,
        "code": coupon.code if coupon else None,
        "last_day": None,
    }
    if coupon is not None and coupon.expires_at is not None:
        context["last_day"] = last_usable_day(coupon.expires_at).isoformat()
    messages_queue(
        messages=[
            message_build(
                member_id=grant.member.pk,
                template=GRANTED,
                context=context,
                kind=kind,
                key=f"campaign:{campaign_id}:{grant.period}"[:150],
            )
        ]
    )


def campaign_message_context(stored: dict[str, Any]) -> dict[str, Any]:
    last_day = stored.get("last_day")
    return {**stored, "last_day": dt.date.fromisoformat(last_day) if last_day else None}


def signup_bonus_grant(*, member: Member, at: dt.datetime) -> int:
    """A member whose e-mail is verified gets each active `signup` campaign's
    points that targets them, once. Returns the points given."""
    campaigns = Campaign.objects.filter(active=True, kind=Campaign.Kind.SIGNUP)
    given = 0
    facts: MemberFacts | None = None
    for campaign in campaigns:
        document = document_parse(campaign.document)
        if not isinstance(document, Signup) or not in_window(document, at):
            continue
        facts = facts or member_facts(member=member)
        if not targeted(document, facts) or in_control(document, facts):
            continue
        points = document.reward.points
        grant = Grant(member=member, period="once", points=points)
        given += (
            points if campaign_grant(campaign_id=campaign.pk, document=document, grant=grant) else 0
        )
    return given
