"""The staff dashboard: `/admin/dashboard/` and each table as CSV at
`/admin/dashboard/{table}.csv`. Staff only (the admin's own check: others are
sent to the login); the figures come from the nightly KPI snapshot."""

import csv

from django.contrib import admin
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from .forms import DateRangeForm
from .selectors import dashboard_range_default, dashboard_table, dashboard_tables


def _range(request: HttpRequest) -> tuple[DateRangeForm, tuple]:
    default = dashboard_range_default()
    form = DateRangeForm(
        request.GET if request.GET else None,
        initial=dict(zip(("start", "end"), default, strict=True)),
    )
    return form, form.range_or(default)


def dashboard(request: HttpRequest) -> HttpResponse:
    form, (start, end) = _range(request)
    tables, last_day = dashboard_tables(start=start, end=end)
    context = {
        **admin.site.each_context(request),
        "title": _("Dashboard"),
        "form": form,
        "tables": tables,
        "start": start,
        "end": end,
        "last_day": last_day,
        "query": request.GET.urlencode(),
    }
    return TemplateResponse(request, "admin/staff/dashboard.html", context)


def dashboard_csv(request: HttpRequest, table: str) -> HttpResponse:
    _form, (start, end) = _range(request)
    found = dashboard_table(name=table, start=start, end=end)
    if found is None:
        raise Http404
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{table}-{start}-{end}.csv"'
    writer = csv.writer(response)
    writer.writerow([str(column) for column in found.columns])
    writer.writerows(found.rows)
    return response
