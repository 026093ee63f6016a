"""Numbers, money and dates as the member reads them, in the active language
(Babel): `¥2,335.00` and `2026年12月1日`, not `2335.00 CNY` and `2026-12-01`.

Money shows the currency's own symbol, as shops in its country write it (¥ for
CNY, $ for USD), rather than the symbol a language uses to tell currencies apart
(an English locale writes CN¥).
"""

import datetime as dt
from decimal import Decimal
from functools import cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.languages import get_official_languages
from babel.numbers import (
    format_currency,
    format_decimal,
    get_currency_precision,
    get_currency_symbol,
)
from django.conf import settings
from django.utils import timezone, translation

# Django's language codes -> Babel's locales.
LOCALES = {"en": "en", "zh-hans": "zh_Hans_CN", "zh-hant": "zh_Hant_TW"}


@cache
def _locale(identifier: str) -> Locale:
    return Locale.parse(identifier)


def babel_locale(language: str | None = None) -> Locale:
    """The Babel locale of the language (the active one by default), parsed once
    per process: Babel's formatting functions otherwise parse it on each call,
    a good part of a page's rendering."""
    return _locale(LOCALES.get(language or translation.get_language() or "", "en"))


@cache
def _home_symbol(currency: str) -> str | None:
    """The symbol of `currency` in its own country (ISO 4217 codes start with it)."""
    territory = currency[:2]
    for language in get_official_languages(territory):
        try:
            locale = Locale.parse(f"{language}_{territory}")
        except (UnknownLocaleError, ValueError):
            continue
        symbol = get_currency_symbol(currency, locale=locale)
        if symbol != currency:
            return symbol
    return None


def money_format(minor: int, currency: str, *, language: str | None = None) -> str:
    """Minor units of `currency` as the member reads them: `¥2,335.00`."""
    locale = babel_locale(language)
    amount = Decimal(minor).scaleb(-get_currency_precision(currency))
    text = format_currency(amount, currency, locale=locale)
    home = _home_symbol(currency)
    if home is not None:
        text = text.replace(get_currency_symbol(currency, locale=locale), home, 1)
    return text


def program_money_format(minor: int, *, language: str | None = None) -> str:
    return money_format(minor, settings.PROGRAM_CURRENCY, language=language)


def number_format(number: int | Decimal, *, language: str | None = None) -> str:
    return format_decimal(number, locale=babel_locale(language))


def date_format(day: dt.date | dt.datetime, *, language: str | None = None) -> str:
    """A day, long enough to be unambiguous in every language (medium)."""
    if isinstance(day, dt.datetime):
        day = timezone.localtime(day, timezone.get_current_timezone()).date()
    return format_date(day, format="medium", locale=babel_locale(language))


def datetime_format(moment: dt.datetime, *, language: str | None = None) -> str:
    return format_datetime(
        moment,
        format="short",
        tzinfo=timezone.get_current_timezone(),
        locale=babel_locale(language),
    )


def in_language(obj: object, field: str, *, language: str | None = None) -> str:
    """The text of `obj.field` in the language (its `field_zh_hans` or
    `field_zh_hant` when filled in), else the default text."""
    language = language or translation.get_language() or ""
    suffix = language.replace("-", "_").lower()
    translated = getattr(obj, f"{field}_{suffix}", "") if suffix != "en" else ""
    return translated or getattr(obj, field, "") or ""
