"""Data the portal's tests share."""

import itertools

from django.utils import timezone

from notifications.models import Message
from points.models import Entry
from points.services import Source, points_earn
from rewards.models import Reward
from tests.factories import MemberFactory

_seeds = itertools.count()


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


def member_with_points(points=0, **kwargs):
    member = MemberFactory(**kwargs)
    if points:
        points_earn(
            member=member,
            points=points,
            source=Source(Entry.Source.STAFF, "seed"),
            key=f"seed-{next(_seeds)}",
        )
    return member


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
