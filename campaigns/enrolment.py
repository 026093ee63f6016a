"""A member joins: what the programme does besides the `members` app's record.

`members` sits below `notifications` and `campaigns` in the layers, so it cannot
announce an enrolment or pay a sign-up bonus itself; these wrap its enrolment
instead (an explicit call in the layer that can see all three, rather than a
signal each app would have to remember to connect):

- the shop's enrolment (`POST /api/v1/members`, or a customer named on an order)
  records the referral, announces `member.enrolled` to the webhooks in the
  enrolment's transaction, and pays the `signup` campaigns' bonus to a member
  whose address the shop verified (`email_verified`), as verifying it in the
  portal does;
- a portal sign-up (allauth's `user_signed_up`, connected in `CampaignsConfig`)
  records the referral of its `/r/{code}` link and announces `member.enrolled`.
"""

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from members.models import Member, User
from members.services import member_enrol
from notifications.webhooks import webhook_events_queue

from .grants import signup_bonus_grant
from .referrals import referral_on_signup, referral_record, referrer_find


def member_enrolled_announce(*, member: Member, source: str) -> int:
    """Queue `member.enrolled` for the webhooks that hear it, in the caller's
    transaction. `source`: `shop` or `portal`."""
    return webhook_events_queue(
        event="member.enrolled",
        payloads=[
            {
                "member": member.number,
                "external_id": member.external_id,
                "email": member.user.email or None,
                "email_verified": member.is_verified,
                "joined_at": member.joined_at.isoformat(),
                "source": source,
            }
        ],
    )


def member_join(
    *,
    referral_code: str | None = None,
    email_verified: bool = False,
    **fields: str | None,
) -> tuple[Member, bool]:
    """The shop's enrolment (members.services.member_enrol): an unknown referral
    code is refused before anything is written; a member enrolled now is
    announced and their referral recorded; a member whose address the shop
    verifies now gets the sign-up bonus. Returns (member, created)."""
    referrer = referrer_find(code=referral_code) if referral_code else None
    started = timezone.now()
    with transaction.atomic():
        member, created = member_enrol(email_verified=email_verified, **fields)  # type: ignore[arg-type]
        newly_verified = False
        if email_verified:
            member.refresh_from_db(fields=["email_verified_at"])
            verified_at = member.email_verified_at
            newly_verified = verified_at is not None and verified_at >= started
        if created:
            if referrer is not None:
                referral_record(referee=member, referrer=referrer)
            member_enrolled_announce(member=member, source="shop")
        if newly_verified:
            signup_bonus_grant(member=member, at=timezone.now())
    return member, created


def member_signed_up(*, request: HttpRequest, user: User) -> None:
    """A portal sign-up: the referral of the link followed, and the announcement."""
    referral_on_signup(request=request, user=user)
    member = Member.objects.select_related("user").filter(user=user).first()
    if member is not None:
        member_enrolled_announce(member=member, source="portal")
