"""The fraud review queue, the dashboard's link on the admin's index, and the
member's page with their fraud flags."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from members.admin import ReadOnlyAdmin, ReadOnlyInline
from members.models import Member
from members.paging import ExactSearchMixin
from tiers.admin import MemberAdmin as TiersMemberAdmin

from .forms import FraudDecisionForm
from .models import FraudFlag
from .services import fraud_flag_decide

admin.site.index_template = "admin/staff/index.html"


@admin.register(FraudFlag)
class FraudFlagAdmin(ExactSearchMixin, ReadOnlyAdmin):
    """The review queue: open flags first, newest first; each flag's page shows
    the evidence and the decision form (clear with a note, or sanction)."""

    list_display = ["created_at", "member", "member_status", "rule", "evidence_summary", "status"]
    list_filter = ["status", "rule"]
    list_select_related = ["member"]
    exact_search = ["member__number"]
    search_fields = ["=member__number"]
    ordering = ["-id"]
    fields = [
        "member",
        "rule",
        "period",
        "evidence_table",
        "status",
        "created_at",
        "resolved_by",
        "resolved_at",
        "note",
        "sanction",
    ]
    readonly_fields = fields
    change_form_template = "admin/staff/fraudflag/change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[FraudFlag]:
        return super().get_queryset(request).select_related("member", "resolved_by", "sanction")

    def changelist_view(
        self, request: HttpRequest, extra_context: dict | None = None
    ) -> HttpResponse:
        if not request.GET:  # the queue: what is still open
            query = request.GET.copy()
            query["status__exact"] = FraudFlag.Status.OPEN
            request.GET = query
        return super().changelist_view(request, extra_context)

    @admin.display(description=_("member status"))
    def member_status(self, obj: FraudFlag) -> str:
        return obj.member.get_status_display()

    @admin.display(description=_("evidence"))
    def evidence_summary(self, obj: FraudFlag) -> str:
        return ", ".join(
            f"{key}: {value}" for key, value in obj.evidence.items() if key != "members"
        )

    @admin.display(description=_("evidence"))
    def evidence_table(self, obj: FraudFlag) -> str:
        return format_html_join(
            "", "<div><strong>{}</strong>: {}</div>", sorted(obj.evidence.items())
        )

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<int:flag_id>/decide/",
                self.admin_site.admin_view(self.decide_view),
                name="staff_fraudflag_decide",
            ),
            *super().get_urls(),
        ]

    def has_decide_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("staff.change_fraudflag")

    def decide_view(self, request: HttpRequest, flag_id: int) -> HttpResponse:
        if not self.has_decide_permission(request):
            raise PermissionDenied
        flag = get_object_or_404(FraudFlag.objects.select_related("member"), pk=flag_id)
        form = FraudDecisionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                fraud_flag_decide(
                    flag=flag,
                    decision=form.cleaned_data["decision"],
                    note=form.cleaned_data["note"],
                    actor=request.user,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(
                    request, _("Flag on %(number)s decided.") % {"number": flag.member.number}
                )
                return redirect("admin:staff_fraudflag_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Decide the flag on %(number)s") % {"number": flag.member.number},
            "action": _("Decide"),
            "member": flag.member,
            "flag": flag,
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/staff/fraudflag/decide.html", context)


class FraudFlagInline(ReadOnlyInline):
    model = FraudFlag
    fields = ["created_at", "rule", "period", "evidence", "status", "note", "resolved_by"]
    readonly_fields = fields
    ordering = ["-id"]
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[FraudFlag]:
        return super().get_queryset(request).select_related("resolved_by")


admin.site.unregister(Member)


@admin.register(Member)
class MemberAdmin(TiersMemberAdmin):
    inlines = [*TiersMemberAdmin.inlines, FraudFlagInline]
