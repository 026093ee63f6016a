"""Reads of members. Functions are `<noun>_<verb>` with keyword-only arguments."""

import datetime as dt
import re
from dataclasses import dataclass
from typing import TypedDict

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .models import Member
from .phones import phone_normalize
from .services import NUMBER_DIGITS

_MEMBER_NUMBER = re.compile(rf"M[0-9]{{{NUMBER_DIGITS}}}")


class MemberSummary(TypedDict):
    number: str
    external_id: str | None
    email: str | None
    status: str
    email_verified: bool


def member_number_like(text: str) -> bool:
    """Whether `text` has the shape of a member number (M and eight digits)."""
    return _MEMBER_NUMBER.fullmatch(text) is not None


def member_get(*, number: str) -> Member | None:
    if not member_number_like(number):
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


def _iso(value: object) -> str | None:
    return value.isoformat() if value is not None else None  # type: ignore[attr-defined]


def member_export(*, member: Member) -> dict[str, object]:
    """The member's own record, for their data export (`/me/privacy/`)."""
    user = member.user
    return {
        "number": member.number,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "phone": member.phone,
        "phone_verified_at": _iso(member.phone_verified_at),
        "birthday": _iso(member.birthday),
        "language": member.language,
        "status": member.status,
        "joined_at": _iso(member.joined_at),
        "email_verified_at": _iso(member.email_verified_at),
        "shop_customer_id": member.external_id,
        "referral_code": member.referral_code,
        "consents": {
            "email": {"given_at": _iso(member.marketing_email_at)},
            "sms": {"given_at": _iso(member.marketing_sms_at)},
            "inbox": {"given_at": _iso(member.marketing_inbox_at)},
            "push": {"given_at": _iso(member.marketing_push_at)},
        },
    }


@dataclass(frozen=True)
class Consent:
    channel: str
    label: str
    given_at: dt.datetime | None


def member_consents(*, member: Member) -> list[Consent]:
    """The member's marketing consent per channel, with when it was given."""
    return [
        Consent("email", str(_("E-mail")), member.marketing_email_at),
        Consent("sms", str(_("SMS")), member.marketing_sms_at),
        Consent("inbox", str(_("Inbox")), member.marketing_inbox_at),
        Consent("push", str(_("Browser notifications")), member.marketing_push_at),
    ]


def member_by_verified_phone(*, phone: str) -> Member | None:
    """The member who verified this number (any way it is written), if any."""
    try:
        e164 = phone_normalize(phone)
    except ValidationError:
        return None
    return (
        Member.objects.select_related("user")
        .filter(phone=e164, phone_verified_at__isnull=False)
        .exclude(status=Member.Status.CLOSED)
        .first()
    )
