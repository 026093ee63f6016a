from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from members.models import Member
from members.views import own_member
from shop.money import format_program_money

from .selectors import balance_get, history_page, points_expiring, points_value_minor

HISTORY_PAGE_SIZE = 25


def dashboard_panel(member: Member) -> dict[str, Any]:
    balance = balance_get(member=member)
    worth = points_value_minor(points=balance.available)
    return {
        "balance": balance,
        "worth": format_program_money(worth),
        "expiring": points_expiring(member=member),
    }


@login_required
def history(request: HttpRequest) -> HttpResponse:
    member = own_member(request)
    before = request.GET.get("before", "")
    before_id = int(before) if before.isdigit() else None
    entries, next_before = history_page(member=member, before_id=before_id, limit=HISTORY_PAGE_SIZE)
    return render(
        request,
        "points/history.html",
        {"entries": entries, "before": before_id, "next_before": next_before},
    )
