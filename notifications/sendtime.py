"""When a marketing message goes out: at the member's usual hour.

A member's usual hour is the hour of the programme's day (PROGRAM_TIME_ZONE)
they are most often active in over the last ACTIVITY_DAYS: their orders, and
whatever other activity an app registers (`register_activity_hours`: the
personalisation app's behaviour events), counted together; the earlier hour
wins a tie, and a member with no activity gets DEFAULT_HOUR (10:00). An hour in
QUIET_HOURS becomes the nearest hour outside them. Within the hour, members are
spread by their id over its minutes, so that a campaign does not leave at once.

The outbox asks at send time (`marketing_send_at`): a marketing message claimed
outside the member's hour is put back until the hour comes (the next day's, if
today's has passed), so this holds however the message was queued.
"""

import datetime as dt
from collections import Counter
from collections.abc import Callable

from django.conf import settings
from django.db.models import Count
from django.db.models.functions import ExtractHour

from batch.services import program_zone
from shop.models import Order

DEFAULT_HOUR = 10
ACTIVITY_DAYS = 180
USUAL_HOUR = "usual_hour"

HoursFn = Callable[[int, dt.datetime], Counter[int]]
_sources: list[HoursFn] = []


def register_activity_hours(source: HoursFn) -> None:
    """An app's count of a member's activity by hour of the programme's day
    since a time: `source(member_id, since) -> Counter({hour: count})`."""
    if source not in _sources:
        _sources.append(source)


def order_hours(member_id: int, since: dt.datetime) -> Counter[int]:
    rows = (
        Order.objects.filter(member_id=member_id, placed_at__gte=since)
        .annotate(hour=ExtractHour("placed_at", tzinfo=program_zone()))
        .values_list("hour")
        .annotate(n=Count("pk"))
        .values_list("hour", "n")
    )
    return Counter(dict(rows))


def usual_hour(*, member_id: int, now: dt.datetime) -> int:
    since = now - dt.timedelta(days=ACTIVITY_DAYS)
    hours = order_hours(member_id, since)
    for source in _sources:
        hours.update(source(member_id, since))
    if not hours:
        return DEFAULT_HOUR
    most = max(hours.values())
    return min(hour for hour, n in hours.items() if n == most)


def quiet_hour_set() -> set[int]:
    from .services import quiet_hours  # the outbox's parser of QUIET_HOURS

    hours = quiet_hours(settings.QUIET_HOURS)
    if hours is None or hours[0] == hours[1]:
        return set()
    first, end = hours
    return {hour % 24 for hour in range(first, end if first < end else end + 24)}


def outside_quiet_hours(hour: int) -> int:
    """`hour`, or the nearest hour outside QUIET_HOURS (the later on a tie)."""
    quiet = quiet_hour_set()
    if hour not in quiet or len(quiet) == 24:
        return hour
    for distance in range(1, 13):
        for candidate in ((hour + distance) % 24, (hour - distance) % 24):
            if candidate not in quiet:
                return candidate
    return hour


def marketing_send_at(*, member_id: int, now: dt.datetime) -> dt.datetime | None:
    """None when marketing for the member may go now; otherwise when it may."""
    if settings.MARKETING_SEND_TIME != USUAL_HOUR:
        return None
    hour = outside_quiet_hours(usual_hour(member_id=member_id, now=now))
    local = now.astimezone(program_zone())
    if local.hour == hour:
        return None
    start = local.replace(hour=hour, minute=member_id % 60, second=0, microsecond=0)
    if start <= local:
        start += dt.timedelta(days=1)
    return start.astimezone(dt.UTC)
