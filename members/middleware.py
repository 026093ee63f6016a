from collections.abc import Callable

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import translation

from .models import Member


class MemberMiddleware:
    """What a logged-in member's row says, read once per request:

    - a frozen or closed member's open sessions end on their next request, not at
      their next login, whatever changed the status;
    - the member's preferred language wins over the browser's (LocaleMiddleware
      has already applied the browser's)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            member = getattr(user, "member", None)
            if member is not None and member.status in Member.LOGGED_OUT_STATUSES:
                logout(request)
                return redirect("account_inactive")
            if member is not None and member.language:
                translation.activate(member.language)
                request.LANGUAGE_CODE = member.language
        return self.get_response(request)
