"""The referral link and the member's referral page.

`/r/{code}` is a landing page that remembers the referrer's code for the
sign-up that follows (in the session, and a cookie for a sign-up on another
day) and starts it; `/me/referral/` gives the member their link and shows the
members they referred."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from members.models import Member
from members.views import own_member

from .referrals import SESSION_KEY, referral_offer, referrals_made

COOKIE_DAYS = 30


@require_GET
def referral_link(request: HttpRequest, code: str) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("members:dashboard")
    code = code.upper()
    valid = Member.objects.filter(referral_code=code, status=Member.Status.ACTIVE).exists()
    response = render(
        request,
        "campaigns/referral_landing.html",
        {"valid": valid, "offer": referral_offer() if valid else None},
        status=200 if valid else 404,
    )
    if valid:
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


@login_required
@require_GET
def referral(request: HttpRequest) -> HttpResponse:
    member = own_member(request)
    counts, made = referrals_made(member=member)
    link = request.build_absolute_uri(
        reverse("campaigns:referral_link", args=[member.referral_code])
    )
    return render(
        request,
        "campaigns/referral.html",
        {
            "member": member,
            "link": link,
            "offer": referral_offer(),
            "counts": counts,
            "made": made,
        },
    )
