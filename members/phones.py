"""Phone numbers: validated with `phonenumbers` (Google's libphonenumber) and
stored in E.164 (+8613800138000). A number typed without its country code is
read as one of PHONE_REGION's."""

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def phone_normalize(text: str, *, region: str | None = None) -> str:
    """`text` as E.164, or ValidationError (code `invalid_phone`) when it is not
    a number that can be dialled."""
    try:
        number = phonenumbers.parse(text.strip(), region or settings.PHONE_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("Enter a valid mobile number, e.g. +86 138 0013 8000."), code="invalid_phone"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_display(e164: str) -> str:
    """A stored number as people write it internationally (+86 138 0013 8000)."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
