from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import translation


class MemberLanguageMiddleware:
    """A logged-in member's preferred language wins over the browser's
    (LocaleMiddleware has already applied the browser's)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            member = getattr(user, "member", None)
            if member is not None and member.language:
                translation.activate(member.language)
                request.LANGUAGE_CODE = member.language
        return self.get_response(request)
