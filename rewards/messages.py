"""The rewards' messages to members, sent through the outbox (`notifications`)."""

import datetime as dt

from django.utils import translation

from members.models import Member
from notifications.registry import Context
from notifications.services import message_build, messages_queue
from points.expiry import last_usable_day

from .models import Coupon, Reward

COUPON_ISSUED = "rewards.coupon_issued"


def coupon_issued_queue(*, member: Member, reward: Reward, coupon: Coupon) -> None:
    """E-mail the member the coupon their reward issued, once per coupon, when
    the redemption commits (queued in its transaction)."""
    last_day = None
    if coupon.expires_at is not None:
        last_day = last_usable_day(coupon.expires_at).isoformat()
    messages_queue(
        messages=[
            message_build(
                member_id=member.pk,
                template=COUPON_ISSUED,
                context={
                    "reward": reward.code,
                    "points": reward.points,
                    "code": coupon.code,
                    "last_day": last_day,
                },
                key=f"coupon-issued:{coupon.pk}",
            )
        ]
    )


def coupon_issued_context(stored: Context) -> Context:
    """The stored context with the reward's name in the message's language and
    the last day as a date."""
    reward = Reward.objects.filter(code=stored["reward"]).first()
    name = reward.name_in(translation.get_language() or "") if reward else stored["reward"]
    last_day = stored.get("last_day")
    return {
        **stored,
        "reward": name,
        "last_day": dt.date.fromisoformat(last_day) if last_day else None,
    }
