"""Data the portal's tests share."""

from django.utils import timezone

from notifications.models import Message


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
