"""When points expire: lots live a number of months after they became available
and expire at the programme's midnight after that day, so every expiry falls on a
midnight and the nightly job (cutoff: the midnight that starts its day) takes
exactly the lots due."""

import calendar
import datetime as dt

from django.conf import settings

from batch.services import program_midnight, program_zone


def add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def lot_expires_at(available_from: dt.datetime) -> dt.datetime:
    local_day = available_from.astimezone(program_zone()).date()
    last_day = add_months(local_day, settings.POINTS_EXPIRY_MONTHS)
    return program_midnight(last_day + dt.timedelta(days=1))


def last_usable_day(expires_at: dt.datetime) -> dt.date:
    """The programme's day before the midnight a lot expires at."""
    return (expires_at.astimezone(program_zone()) - dt.timedelta(days=1)).date()
