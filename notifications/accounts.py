"""The site's allauth adapter: the members app's (members.adapters) with the
texts allauth asks for sent through SMS_URL's backend (notifications.sms): the
one-time code, and, as allauth's enumeration prevention wants, a note to a
number that has no account or already has one."""

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from members.adapters import AccountAdapter as MembersAccountAdapter

from .sms import sms_send


class AccountAdapter(MembersAccountAdapter):
    def send_verification_code_sms(self, user: Any, phone: str, code: str, **kwargs: Any) -> None:
        sms_send(
            to=phone,
            body=f"【{settings.PROGRAM_NAME}】"
            + _("Your code is %(code)s. It is valid for 5 minutes; do not share it.")
            % {"code": self.sms_code(code)},
        )

    def send_unknown_account_sms(self, phone: str, **kwargs: Any) -> None:
        sms_send(
            to=phone,
            body=f"【{settings.PROGRAM_NAME}】"
            + _("Someone asked to sign in with this number, which has no account with us.")
            + " "
            + _("Join at %(url)s") % {"url": settings.SITE_URL.rstrip("/") + "/accounts/signup/"},
        )

    def send_account_already_exists_sms(self, phone: str) -> None:
        sms_send(
            to=phone,
            body=f"【{settings.PROGRAM_NAME}】"
            + _("Someone tried to join with this number, which already has an account.")
            + " "
            + _("Sign in at %(url)s") % {"url": settings.SITE_URL.rstrip("/") + "/accounts/login/"},
        )
