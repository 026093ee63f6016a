from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from members.models import Member
from members.views import own_member
from shop.money import format_program_money

from .describe import entries_describe
from .forms import HistoryFilterForm
from .selectors import balance_get, history_page, points_expiring, points_value_minor

HISTORY_PAGE_SIZE = 25
EXPIRING_DAYS = 90  # the history shows the points that expire in this many days
EXPIRING_SHOWN = 5  # days shown one by one; the later ones as one sum


def expiring_summary(member: Member, *, days: int | None = None) -> dict[str, Any]:
    """The points that expire soon: the first days one by one (`days`), the rest
    summed up to the last of them (`later`, `later_until`), so that a long list
    of expiring lots is a few lines."""
    expiring = points_expiring(member=member, days=days)
    later = expiring[EXPIRING_SHOWN:]
    return {
        "days": expiring[:EXPIRING_SHOWN],
        "later": sum(item.points for item in later),
        "later_until": later[-1].date if later else None,
    }


def dashboard_panel(member: Member) -> dict[str, Any]:
    balance = balance_get(member=member)
    worth = points_value_minor(points=balance.available)
    return {
        "balance": balance,
        "worth": format_program_money(worth),
        "expiring": expiring_summary(member),
    }


@login_required
def history(request: HttpRequest) -> HttpResponse:
    """The ledger, newest first, filtered by kind and month; the points that
    expire soon at the top. With htmx, a change of the filter answers the
    list alone."""
    member = own_member(request)
    form = HistoryFilterForm(request.GET)
    before = request.GET.get("before", "")
    before_id = int(before) if before.isdigit() else None
    entries, next_before = history_page(
        member=member,
        before_id=before_id,
        limit=HISTORY_PAGE_SIZE,
        kinds=form.kinds(),
        month=form.month_start(),
    )
    filters = request.GET.copy()
    filters.pop("before", None)
    context = {
        "form": form,
        "entries": entries_describe(entries),
        "before": before_id,
        "next_before": next_before,
        "filters": filters.urlencode(),
        "filtered": bool(form.kinds() or form.month_start()),
    }
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "points/_history.html", context)
    context["expiring"] = expiring_summary(member, days=EXPIRING_DAYS)
    context["balance"] = balance_get(member=member)
    return render(request, "points/history.html", context)
