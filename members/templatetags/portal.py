"""Filters of the member portal's templates: numbers, money and dates in the
active language (members.l10n), and texts staff wrote per language."""

import datetime as dt
from decimal import Decimal

from django import template

from members import l10n

register = template.Library()


@register.filter
def money(minor: int | None) -> str:
    """Minor units of the programme's currency: `¥2,335.00`."""
    return "" if minor is None else l10n.program_money_format(minor)


@register.filter
def num(number: int | Decimal | None) -> str:
    return "" if number is None else l10n.number_format(number)


@register.filter
def signed(number: int) -> str:
    """A change of points: +120, or -40 with a minus sign."""
    text = l10n.number_format(abs(number))
    return f"+{text}" if number > 0 else (f"\u2212{text}" if number < 0 else text)


@register.filter
def day(value: dt.date | dt.datetime | None) -> str:
    return "" if value is None else l10n.date_format(value)


@register.filter
def moment(value: dt.datetime | None) -> str:
    return "" if value is None else l10n.datetime_format(value)


@register.filter
def local(obj: object, field: str = "name") -> str:
    """`{{ reward|local:"description" }}`: the text in the member's language."""
    return l10n.in_language(obj, field)
