"""Reads of members. Functions are `<noun>_<verb>` with keyword-only arguments."""

import re
from typing import TypedDict

from .models import Member
from .services import NUMBER_DIGITS

_MEMBER_NUMBER = re.compile(rf"M[0-9]{{{NUMBER_DIGITS}}}")


class MemberSummary(TypedDict):
    number: str
    external_id: str | None
    email: str | None
    status: str
    email_verified: bool


def member_get(*, number: str) -> Member | None:
    if not _MEMBER_NUMBER.fullmatch(number):
        return None  # not a member number: no need to ask the database
    return Member.objects.select_related("user").filter(number=number).first()


def member_summary(*, member: Member) -> MemberSummary:
    """What the members app says about a member in the shop API. Layers above add
    their parts (tier, points, ...) to this dict; they do not rebuild it."""
    return {
        "number": member.number,
        "external_id": member.external_id,
        "email": member.user.email,
        "status": member.status,
        "email_verified": member.is_verified,
    }
