"""The shop API's member schemas: the enrolment's input (campaigns.api answers it, with
the referral code) and the member's summary."""

from typing import Literal

from django.conf import settings
from ninja import Schema
from pydantic import ConfigDict, Field, StrictBool

from .schemas import TEXT, Email, StrictSchema

LanguageCode = Literal[("", *(code for code, _name in settings.LANGUAGES))]  # type: ignore[valid-type]


class MemberEnrolIn(StrictSchema):
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["external_id"], "properties": {"external_id": {"type": "string"}}},
                {"required": ["email"], "properties": {"email": {"type": "string"}}},
            ]
        }
    )

    external_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        pattern=TEXT,
        description="The shop's customer id. Give it, the e-mail, or both.",
    )
    email: Email | None = None
    email_verified: StrictBool = Field(
        default=False,
        description="The shop has verified the address itself: the member may redeem at once.",
    )
    first_name: str = Field(default="", max_length=150, pattern=TEXT)
    last_name: str = Field(default="", max_length=150, pattern=TEXT)
    language: LanguageCode = ""
    phone: str = Field(default="", max_length=32, pattern=TEXT)


class MemberOut(Schema):
    number: str = Field(examples=["M12345678"])
    external_id: str | None
    email: str | None
    status: str = Field(examples=["active"])
    email_verified: bool
