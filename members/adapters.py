"""django-allauth's hooks into the members app: a sign-up creates the member in the
same transaction, a confirmed e-mail marks the member verified, a frozen or
closed member cannot log in, and rate limits count a client behind too few proxies
under the address it came from."""

import logging
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.http import HttpRequest, HttpResponse

from .models import Member, User
from .services import member_create, member_mark_verified

logger = logging.getLogger(__name__)


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request: HttpRequest, user: User, form: Any, commit: bool = True) -> User:
        with transaction.atomic():
            user = super().save_user(request, user, form, commit=True)
            member_create(user=user, language=getattr(request, "LANGUAGE_CODE", ""))
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
