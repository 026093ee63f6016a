import json
from contextlib import suppress

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django.views.i18n import set_language

from .forms import CloseAccountForm, ProfileForm
from .models import Member
from .portal import dashboard_panels, export_sections
from .selectors import member_consents
from .services import member_close, member_language_set


def own_member(request: HttpRequest) -> Member:
    """The logged-in user's member record: portal pages never take a member id
    from the URL, so nobody can reach another member's data. Read once per
    request, with the user (MemberMiddleware has read it already; its `user` is
    the request's)."""
    member = getattr(request.user, "member", None)
    if member is None:
        raise Http404
    return member


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("members:dashboard")
    return render(request, "members/home.html")


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    member = own_member(request)
    return render(
        request,
        "members/dashboard.html",
        {"member": member, "panels": dashboard_panels(member)},
    )


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    member = own_member(request)
    form = ProfileForm(request.POST or None, member=member)
    if request.method == "POST" and form.is_valid() and form.save() is not None:
        messages.success(request, _("Your profile is saved."))
        return redirect("members:profile")
    return render(
        request,
        "members/profile.html",
        {"member": member, "form": form, "consents": member_consents(member=member)},
    )


@require_POST
def language(request: HttpRequest) -> HttpResponse:
    """The language switch: Django's set_language (the cookie, then back to the
    page), and for a member also their preference, which wins on every page."""
    member = getattr(request.user, "member", None) if request.user.is_authenticated else None
    if member is not None:
        # An unknown language: set_language ignores it too.
        with suppress(ValidationError):
            member_language_set(member=member, language=request.POST.get("language", ""))
    return set_language(request)


@login_required
def privacy(request: HttpRequest) -> HttpResponse:
    member = own_member(request)
    form = CloseAccountForm(request.POST or None, user=member.user)
    if request.method == "POST" and form.is_valid():
        member_close(member=member)
        logout(request)
        messages.success(request, _("Your account is closed. Thank you for being a member."))
        return redirect("members:home")
    return render(request, "members/privacy.html", {"member": member, "form": form})


@login_required
@require_GET
def privacy_export(request: HttpRequest) -> HttpResponse:
    """All the member's data as one JSON file, downloaded."""
    member = own_member(request)
    data = {"exported_at": timezone.now(), **export_sections(member)}
    response = HttpResponse(
        json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    filename = f"{member.number}-data.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
