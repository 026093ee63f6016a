"""django-allauth's hooks into the members app: a sign-up creates the member in the
same transaction, a confirmed e-mail marks the member verified, a frozen or
closed member cannot log in, and rate limits count a client behind too few proxies
under the address it came from.

Phones (allauth's phone support): the member's number, in E.164, is kept on the
member with when it was verified; only a verified number signs in. One-time
codes (phone verification, login by code) are handed to allauth hashed
(members.codes). Sending the texts is the notifications app's (its adapter,
notifications.accounts, extends this one)."""

import logging
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.fields import PhoneField
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.http import HttpRequest, HttpResponse

from .codes import code_keep, code_sent
from .models import Member, User
from .phones import phone_normalize
from .selectors import member_by_verified_phone
from .services import member_create, member_mark_verified, member_phone_set

logger = logging.getLogger(__name__)


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request: HttpRequest, user: User, form: Any, commit: bool = True) -> User:
        with transaction.atomic():
            user = super().save_user(request, user, form, commit=True)
            member = member_create(user=user, language=getattr(request, "LANGUAGE_CODE", ""))
            if phone := getattr(user, "_signup_phone", ""):
                member_phone_set(member=member, phone=phone, verified=False)
        return user

    def confirm_email(self, request: HttpRequest, email_address: Any) -> bool:
        confirmed = super().confirm_email(request, email_address)
        member = Member.objects.filter(user_id=email_address.user_id).first()
        if member is not None and email_address.primary:
            member_mark_verified(member=member)
        return confirmed

    def pre_login(self, request: HttpRequest, user: User, **kwargs: Any) -> HttpResponse | None:
        if Member.objects.filter(user=user, status__in=Member.LOGGED_OUT_STATUSES).exists():
            return self.respond_user_inactive(request, user)
        return super().pre_login(request, user, **kwargs)

    def get_client_ip(self, request: HttpRequest) -> str:
        """allauth takes the client's address from X-Forwarded-For, as many hops
        back as ALLAUTH_TRUSTED_PROXY_COUNT says, and fails (a 500) when the header
        has fewer: a request that did not pass every proxy, or a forged header. Such
        a request is counted under the address it came from."""
        try:
            return super().get_client_ip(request)
        except ImproperlyConfigured:
            logger.warning(
                "X-Forwarded-For has fewer addresses than ALLAUTH_TRUSTED_PROXY_COUNT; "
                "counting the request under REMOTE_ADDR"
            )
            return str(request.META["REMOTE_ADDR"])

    # Phones

    def phone_form_field(self, **kwargs: Any) -> Any:
        """A number as people type it (spaces, no country code): checked and
        made E.164 by `clean_phone`, not by allauth's "+digits" pattern."""
        kwargs.setdefault("validators", [])
        return PhoneField(**kwargs)

    def clean_phone(self, phone: str) -> str:
        return phone_normalize(phone)

    def set_phone(self, user: Any, phone: str, verified: bool) -> None:
        member = Member.objects.filter(user_id=user.pk).first()
        if member is None:  # a sign-up: the member is made right after
            user._signup_phone = phone
            return
        member_phone_set(member=member, phone=phone, verified=verified)

    def get_phone(self, user: Any) -> tuple[str, bool] | None:
        member = Member.objects.filter(user_id=user.pk).first()
        if member is None or not member.phone:
            return None
        return member.phone, member.phone_verified_at is not None

    def set_phone_verified(self, user: Any, phone: str) -> None:
        """The code sent to `phone` was entered: the number is the member's,
        verified (a change of number reaches here with the new one)."""
        member = Member.objects.filter(user_id=user.pk).first()
        if member is not None:
            member_phone_set(member=member, phone=phone, verified=True)

    def get_user_by_phone(self, phone: str) -> Any:
        member = member_by_verified_phone(phone=phone)
        return member.user if member is not None else None

    # One-time codes, kept hashed

    def generate_phone_verification_code(self, *, user: Any, phone: str) -> str:
        return code_keep(super().generate_phone_verification_code(user=user, phone=phone))

    def generate_login_code(self) -> str:
        return code_keep(super().generate_login_code())

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        if "code" in context:
            context = {**context, "code": code_sent(context["code"])}
        super().send_mail(template_prefix, email, context)

    def sms_code(self, code: str) -> str:
        """The code to text, from what allauth holds (its digest)."""
        return code_sent(code)
