"""Money as integers of the currency's minor unit (cents, fen, yen), never floats.

Amounts arrive as decimal text ("123.45"); `parse_amount` turns them into minor
units and `format_amount` turns them back. The table holds the ISO 4217 currencies
a shop is likely to sell in, with the number of decimals each has.
"""

import re

from members.l10n import program_money_format

from .errors import DomainError

# ISO 4217 code -> minor-unit exponent (decimals).
CURRENCY_EXPONENTS: dict[str, int] = {
    "AED": 2,
    "AUD": 2,
    "BHD": 3,
    "BRL": 2,
    "CAD": 2,
    "CHF": 2,
    "CLP": 0,
    "CNY": 2,
    "CZK": 2,
    "DKK": 2,
    "EUR": 2,
    "GBP": 2,
    "HKD": 2,
    "HUF": 2,
    "IDR": 2,
    "ILS": 2,
    "INR": 2,
    "ISK": 0,
    "JOD": 3,
    "JPY": 0,
    "KRW": 0,
    "KWD": 3,
    "MOP": 2,
    "MXN": 2,
    "MYR": 2,
    "NOK": 2,
    "NZD": 2,
    "OMR": 3,
    "PHP": 2,
    "PLN": 2,
    "SAR": 2,
    "SEK": 2,
    "SGD": 2,
    "THB": 2,
    "TND": 3,
    "TRY": 2,
    "TWD": 2,
    "USD": 2,
    "VND": 0,
    "ZAR": 2,
}

# No single amount a shop reports is anywhere near this; above it is a bug or an attack.
MAX_MINOR_UNITS = 10**12

_AMOUNT = re.compile(r"\A([0-9]{1,20})(?:\.([0-9]{1,20}))?\Z")


class MoneyError(DomainError):
    """An amount or currency that cannot be accepted. `code` is `invalid` or
    `unsupported_currency`; `field` names the input, when known."""

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message, fields={field: message} if field else None, code=code)
        self.field = field


def currency_exponent(currency: str, *, field: str | None = None) -> int:
    try:
        return CURRENCY_EXPONENTS[currency]
    except (KeyError, TypeError):
        raise MoneyError(
            "unsupported_currency", f"Currency {currency!r} is not supported.", field=field
        ) from None


def parse_amount(
    text: str, currency: str, *, field: str | None = None, allow_zero_padding: bool = False
) -> int:
    """The amount `text` ("123.45") in minor units of `currency` (12345 for USD).

    Refuses anything but plain non-negative decimal text, more decimals than the
    currency has ("1.005" USD, "10.5" JPY) and amounts above MAX_MINOR_UNITS.
    `allow_zero_padding` accepts extra decimals that are all zero ("1000.00" JPY),
    as some platforms (Shopify) format every currency with two decimals.
    """
    exponent = currency_exponent(currency, field=field)
    if not isinstance(text, str):
        raise MoneyError("invalid", "An amount must be a string such as '12.34'.", field=field)
    if text.startswith("-"):
        raise MoneyError("invalid", "An amount cannot be negative.", field=field)
    match = _AMOUNT.match(text)
    if match is None:
        raise MoneyError("invalid", f"{text[:40]!r} is not an amount.", field=field)
    whole, fraction = match.group(1), match.group(2) or ""
    extra = fraction[exponent:]
    if extra and (not allow_zero_padding or extra.strip("0")):
        raise MoneyError(
            "invalid",
            f"{currency} amounts have at most {exponent} decimal places.",
            field=field,
        )
    fraction = fraction[:exponent].ljust(exponent, "0")
    minor = int(whole) * 10**exponent + int(fraction or "0")
    if minor > MAX_MINOR_UNITS:
        raise MoneyError("invalid", "The amount is too large.", field=field)
    return minor


def format_amount(minor: int, currency: str) -> str:
    """Minor units as decimal text: format_amount(12345, "USD") == "123.45"."""
    exponent = currency_exponent(currency)
    sign = "-" if minor < 0 else ""
    whole, fraction = divmod(abs(minor), 10**exponent)
    if exponent == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{fraction:0{exponent}d}"


def format_program_money(minor: int) -> str:
    """Minor units of the programme's currency as people read them in the active
    language: "¥123.45"."""
    return program_money_format(minor)
