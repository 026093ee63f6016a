from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from .forms import ProfileForm
from .models import Member
from .portal import dashboard_panels


def own_member(request: HttpRequest) -> Member:
    """The logged-in user's member record: portal pages never take a member id
    from the URL, so nobody can reach another member's data."""
    return get_object_or_404(Member.objects.select_related("user"), user_id=request.user.pk)


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
    return render(request, "members/profile.html", {"member": member, "form": form})
