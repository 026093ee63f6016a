from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from members.models import Member
from members.money import format_amount
from members.views import own_member

from .selectors import tier_status


def _money(minor: int) -> str:
    return f"{format_amount(minor, settings.PROGRAM_CURRENCY)} {settings.PROGRAM_CURRENCY}"


def _context(member: Member) -> dict[str, Any]:
    status = tier_status(member=member)
    return {
        "status": status,
        "spend": _money(status.spend_minor),
        "spend_left": _money(status.spend_left_minor),
        "tier_rows": [(tier, _money(tier.threshold_minor)) for tier in status.tiers],
    }


def dashboard_panel(member: Member) -> dict[str, Any]:
    return _context(member)


@login_required
def tier(request: HttpRequest) -> HttpResponse:
    return render(request, "tiers/tier.html", _context(own_member(request)))
