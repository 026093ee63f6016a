"""The referral link: `/r/{code}` remembers the referrer's code for the sign-up
that follows (in the session, and a cookie for a sign-up on another day)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

from members.models import Member

from .referrals import SESSION_KEY

COOKIE_DAYS = 30


@require_GET
def referral_link(request: HttpRequest, code: str) -> HttpResponse:
    response = redirect("account_signup")
    code = code.upper()
    if Member.objects.filter(referral_code=code).exists():
        request.session[SESSION_KEY] = code
        response.set_cookie(
            SESSION_KEY,
            code,
            max_age=COOKIE_DAYS * 86400,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure(),
        )
    return response
