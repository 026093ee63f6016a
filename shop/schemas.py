"""Shared pieces of the shop API's schemas: every request body forbids unknown
fields, amounts are decimal strings, errors have one shape."""

from typing import Annotated

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from ninja import Schema
from pydantic import AfterValidator, ConfigDict, Field

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


class StrictSchema(Schema):
    """A request body: an unknown field is an error, not silently ignored."""

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
    endpoint has 401 (no or bad key)."""
    return {status: ErrorOut for status in {401, *statuses}}
