"""The shop API's enrolment: enrol a customer, or find the member they already are."""

from typing import Literal

from django.conf import settings
from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import ConfigDict, Field

from members.selectors import MemberSummary, member_summary
from members.services import member_enrol

from .schemas import TEXT, Email, StrictSchema, error_responses

router = Router(tags=["members"])


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
    first_name: str = Field(default="", max_length=150, pattern=TEXT)
    last_name: str = Field(default="", max_length=150, pattern=TEXT)
    language: LanguageCode = ""
    phone: str = Field(default="", max_length=32, pattern=TEXT)


class MemberOut(Schema):
    number: str = Field(examples=["M12345678"])
    external_id: str | None
    email: str | None
    status: str = Field(examples=["active"])


@router.post(
    "/members",
    response={200: MemberOut, 201: MemberOut, **error_responses(400, 422)},
    summary="Enrol a member, or find the one the shop's customer already is",
)
def members_enrol(request: HttpRequest, body: MemberEnrolIn) -> Status[MemberSummary]:
    member, created = member_enrol(**body.model_dump())
    return Status(201 if created else 200, member_summary(member=member))
