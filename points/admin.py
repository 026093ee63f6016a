"""The ledger in the admin: read-only everywhere; points change only through
the adjust form, which calls the ledger's service."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from members.admin import MemberAdmin as BaseMemberAdmin
from members.admin import ReadOnlyAdmin
from members.models import Member
from members.paging import ExactSearchMixin

from .errors import PointsError
from .forms import AdjustPointsForm
from .models import Entry
from .selectors import balance_get
from .services import points_adjust

RECENT_ENTRIES = 20


def _by_source(term: str) -> Q:
    # Every source type named, so that the (source_type, source_ref) index serves.
    return Q(source_type__in=Entry.Source.values, source_ref=term)


@admin.register(Entry)
class EntryAdmin(ExactSearchMixin, ReadOnlyAdmin):
    list_display = [
        "id",
        "member",
        "kind",
        "amount",
        "pending_change",
        "balance_after",
        "source_type",
        "source_ref",
        "actor",
        "created_at",
    ]
    list_filter = ["kind", "source_type"]
    exact_search = ["member__number", _by_source]
    search_fields = ["=member__number", "=source_ref"]
    search_help_text = _("A member number, or what an entry came from (an order's reference).")
    list_select_related = ["member", "actor"]
    ordering = ["-id"]


admin.site.unregister(Member)


@admin.register(Member)
class MemberAdmin(BaseMemberAdmin):
    readonly_fields = [*BaseMemberAdmin.readonly_fields, "points_balance", "recent_ledger"]
    fields = [*BaseMemberAdmin.fields, "points_balance", "recent_ledger"]
    change_form_template = "admin/points/member_change_form.html"

    @admin.display(description=_("points"))
    def points_balance(self, obj: Member) -> str:
        balance = balance_get(member=obj)
        return _("%(available)s available, %(pending)s pending, %(debt)s debt") % {
            "available": balance.available,
            "pending": balance.pending,
            "debt": balance.debt,
        }

    @admin.display(description=_("recent ledger"))
    def recent_ledger(self, obj: Member) -> str:
        entries = Entry.objects.filter(member=obj).order_by("-id")[:RECENT_ENTRIES]
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
            "<td>{} {}</td><td>{}</td></tr>",
            (
                (
                    e.created_at.strftime("%Y-%m-%d %H:%M"),
                    e.kind,
                    f"{e.amount:+d}",
                    f"{e.pending_change:+d}",
                    e.balance_after,
                    e.source_type,
                    e.source_ref,
                    e.reason,
                )
                for e in entries
            ),
        )
        url = reverse("admin:points_entry_changelist") + f"?q={obj.number}"
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>"
            "<th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>"
            '<p><a href="{}">{}</a></p>',
            _("when"),
            _("kind"),
            _("available"),
            _("pending"),
            _("balance after"),
            _("source"),
            _("reason"),
            rows,
            url,
            _("The whole ledger"),
        )

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<int:member_id>/adjust-points/",
                self.admin_site.admin_view(self.adjust_points_view),
                name="members_member_adjust_points",
            ),
            *super().get_urls(),
        ]

    def adjust_points_view(self, request: HttpRequest, member_id: int) -> HttpResponse:
        if not request.user.has_perm("points.adjust_points"):
            raise PermissionDenied
        member = get_object_or_404(Member, pk=member_id)
        form = AdjustPointsForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                entry = points_adjust(
                    member=member,
                    points=form.cleaned_data["points"],
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                    key=form.cleaned_data["key"],
                )
            except PointsError as error:
                form.add_error(None, error.message)
            else:
                messages.success(
                    request,
                    _("Adjusted %(points)+d points; balance now %(balance)s.")
                    % {"points": entry.amount, "balance": entry.balance_after},
                )
                return redirect("admin:members_member_change", member.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Adjust points of %(number)s") % {"number": member.number},
            "action": _("Adjust points"),
            "member": member,
            "balance": balance_get(member=member),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/points/adjust_points.html", context)
