"""The admin's lists at millions of rows: a paginator that does not count them
all, and a search that tries exact, indexed lookups before any substring one.
In the bottom layer so that every app's admin can use them."""

from collections.abc import Callable, Sequence
from functools import cached_property

from django.contrib import admin
from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import Q, QuerySet
from django.http import HttpRequest

# Below this many rows a list is counted exactly; above it, on PostgreSQL, an
# unfiltered list shows the planner's estimate and a filtered one "more than".
EXACT_COUNT_UP_TO = 10_000


class EstimatedCountPaginator(Paginator):
    """Django's paginator counts every row of the list (a sequential scan of 30
    million entries takes seconds). Here an unfiltered list on PostgreSQL takes
    the table's row estimate from the catalogue (pg_class.reltuples, kept by
    ANALYZE and autovacuum), and any list is counted only up to
    EXACT_COUNT_UP_TO + 1 rows: past that, the pages run to that many rows and
    the list says so."""

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):
            return len(queryset)
        estimate = _estimate(queryset)
        if estimate is not None and estimate > EXACT_COUNT_UP_TO:
            return estimate
        return queryset[: EXACT_COUNT_UP_TO + 1].count()

    def page(self, number: int | str) -> Page:
        """A page past the first is read in two steps: its rows' keys alone
        (the OFFSET walks an index of keys, not the rows joined to what the
        list shows), then those rows, in the list's order. Page 200 of a
        million members joined every one of the 19,900 rows it skipped."""
        page = super().page(number)
        if page.number > 1 and isinstance(page.object_list, QuerySet):
            keys = list(page.object_list.values_list("pk", flat=True))
            page.object_list = self.object_list.filter(pk__in=keys)
        return page


def _estimate(queryset: QuerySet) -> int | None:
    connection = connections[queryset.db]
    if connection.vendor != "postgresql" or queryset.query.where:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
            [queryset.model._meta.db_table],
        )
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] > 0 else None


Lookup = str | Callable[[str], Q | None]


class ExactSearchMixin(admin.ModelAdmin):
    """Search by the exact, indexed values first (`exact_search`: lookups, or
    functions of the term giving a condition, or None when the term cannot be
    one), one at a time, taking the first that finds rows: each is an index
    lookup, where an OR of them across joined tables is a scan of the whole
    table. Only when none finds anything does the admin's usual substring
    search over `search_fields` run, and only with `substring_search`."""

    exact_search: Sequence[Lookup] = ()
    substring_search = False
    paginator = EstimatedCountPaginator
    show_full_result_count = False

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        for lookup in self.exact_search:
            condition = lookup(term) if callable(lookup) else Q(**{lookup: term})
            if condition is None:
                continue
            found = queryset.filter(condition)
            if found.exists():
                return found, False
        if self.substring_search:
            return super().get_search_results(request, queryset, term)
        return queryset.none(), False
