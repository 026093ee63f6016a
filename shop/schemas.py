"""Shared pieces of the shop API's schemas: every request body forbids unknown
fields, amounts are decimal strings, errors have one shape."""

import datetime as dt
from typing import Annotated

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import HttpRequest
from ninja import Schema
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from .money import MAX_MINOR_UNITS

# Text without NUL characters, which PostgreSQL cannot store: use as a Field pattern.
TEXT = r"^[^\x00]*$"


def _email_valid(value: str) -> str:
    try:
        validate_email(value)
    except ValidationError:
        raise ValueError("Enter a valid e-mail address.") from None
    return value


Email = Annotated[
    str,
    Field(max_length=254, json_schema_extra={"format": "email"}),
    AfterValidator(_email_valid),
]

EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)


def moment_in_range(value: dt.datetime) -> bool:
    """From 1970 to 9998: earlier or later is a mistake, and near the ends of
    Python's calendar adding a day or an offset would overflow. Only the first
    and last years are compared exactly: an offset (under a day) cannot take
    any other year out of range, and comparing aware times costs tens of
    microseconds, more than the rest of a behaviour event's validation."""
    if EARLIEST.year < value.year < LATEST.year - 1:
        return True
    try:
        return EARLIEST <= value < LATEST
    except OverflowError:  # an offset that pushes year 1 or 9999 out of range
        return False


def _moment_in_range(value: dt.datetime) -> dt.datetime:
    if not moment_in_range(value):
        raise ValueError("Must be from 1970 to 9998.")
    return value


Moment = Annotated[
    AwareDatetime,
    AfterValidator(_moment_in_range),
    Field(
        description=(
            "A date and time with its UTC offset (`2026-11-23T10:00:00+08:00`, "
            "`...Z`); without one it is refused, not guessed. From 1970 to 9998."
        ),
        examples=["2026-11-23T10:00:00+08:00"],
    ),
]

Amount = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{1,20}(\.[0-9]{1,20})?$",
        max_length=32,
        description=(
            "A non-negative decimal string in the currency's unit, with at most as many "
            f"decimals as the currency has (at most {MAX_MINOR_UNITS} minor units)."
        ),
        examples=["129.90"],
    ),
]
Currency = Annotated[
    str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code.", examples=["CNY"])
]


class StrictSchema(BaseModel):
    """A request body: an unknown field is an error, not silently ignored. A plain
    pydantic model, not ninja's Schema: that one validates a model that forbids
    unknown fields twice, the second time through its getter for ORM objects
    (which a body never is), for each item of a list as well; a batch of 1,000
    behaviour events spent most of its time there."""

    model_config = ConfigDict(extra="forbid")


class ErrorDetail(Schema):
    code: str = Field(examples=["invalid"])
    message: str
    fields: dict[str, str] = Field(
        description="What is wrong with each input, by name (dotted when nested)."
    )


class ErrorOut(Schema):
    error: ErrorDetail


def error_responses(*statuses: int) -> dict[int, type[ErrorOut]]:
    """The `response=` entries documenting an endpoint's error statuses; every
    endpoint has 401 (no or bad key), 413 (a body too large) and 429 (throttled)."""
    return {status: ErrorOut for status in {401, 413, 429, *statuses}}


def query_known(request: HttpRequest, query: type[Schema]) -> None:
    """Refuse query parameters `query` does not name (ninja would ignore them): a
    mistyped `?limt=10` is an error, not silently the default."""
    unknown = sorted(set(request.GET) - set(query.model_fields))
    if unknown:
        raise NinjaValidationError(
            [{"loc": ("query", name[:40]), "msg": "Unknown parameter."} for name in unknown]
        )
