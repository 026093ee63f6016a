"""Data the portal's tests share."""

from django.utils import timezone

from notifications.models import Message
from rewards.models import Reward


def inbox_message(member, *, read=False, reward="TEN-OFF", code="ABCDEFGHJK"):
    """A coupon notice delivered to the member's inbox."""
    now = timezone.now()
    return Message.objects.create(
        member=member,
        channel=Message.Channel.INBOX,
        template="rewards.coupon_issued",
        context={"reward": reward, "points": 1000, "code": code, "last_day": None},
        state=Message.State.SENT,
        sent_at=now,
        read_at=now if read else None,
    )


def make_reward(code, points=1000, **kwargs):
    fields = {
        "code": code,
        "name": f"Reward {code}",
        "kind": Reward.Kind.COUPON,
        "points": points,
        "coupon": {"kind": "amount", "value": "10.00", "min_spend": "50.00", "valid_days": 30},
        **kwargs,
    }
    return Reward.objects.create(**fields)
