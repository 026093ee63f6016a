from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from members.models import Member
from members.views import own_member
from shop.money import format_program_money

from .selectors import plans_on_sale, tier_status


def _context(member: Member) -> dict[str, Any]:
    status = tier_status(member=member)
    return {
        "status": status,
        "spend": format_program_money(status.spend_minor),
        "spend_left": format_program_money(status.spend_left_minor),
        "tier_rows": [(tier, format_program_money(tier.threshold_minor)) for tier in status.tiers],
    }


def dashboard_panel(member: Member) -> dict[str, Any]:
    return _context(member)


@login_required
def tier(request: HttpRequest) -> HttpResponse:
    context = _context(own_member(request))
    context["plans"] = plans_on_sale()
    context["shop_url"] = settings.SHOP_URL
    return render(request, "tiers/tier.html", context)
