"""Campaigns in the admin: each edited as its document (the same validation as
campaigns_import), with a preview of what a sample order would earn."""

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _

from members.admin import ReadOnlyAdmin
from shop.errors import DomainError

from .abtest import ab_results
from .broadcasts import broadcast_reach, broadcast_start
from .catalogue import campaign_save
from .forms import BroadcastForm, CampaignForm
from .models import Broadcast, Campaign, MemberSegment, Referral, RfmBounds


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    form = CampaignForm
    change_form_template = "admin/campaigns/campaign/change_form.html"
    list_display = [
        "code",
        "name",
        "kind",
        "active",
        "starts_at",
        "ends_at",
        "priority",
        "stackable",
        "budget",
    ]
    list_filter = ["active", "kind"]
    search_fields = ["code", "name"]
    fieldsets = [
        (None, {"fields": ["document_json"]}),
        (
            _("Preview"),
            {
                "fields": [
                    "sample_placed_at",
                    "sample_total",
                    "sample_lines",
                    "sample_first_order",
                    "sample_member",
                ]
            },
        ),
    ]

    def get_urls(self) -> list[URLPattern]:
        results = path(
            "<int:campaign_id>/results/",
            self.admin_site.admin_view(self.results_view),
            name="campaigns_campaign_results",
        )
        return [results, *super().get_urls()]

    def results_view(self, request: HttpRequest, campaign_id: int) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        campaign = get_object_or_404(Campaign, pk=campaign_id)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "campaign": campaign,
            "title": _("A/B results: %(name)s") % {"name": campaign.name},
            "variants": ab_results(campaign=campaign),
        }
        return TemplateResponse(request, "admin/campaigns/campaign/results.html", context)

    @admin.display(description=_("budget"))
    def budget(self, obj: Campaign) -> str:
        if obj.budget_points is None:
            return _("%(spent)s given, no limit") % {"spent": obj.spent}
        if obj.out_of_budget:
            return _("out of budget: %(spent)s of %(budget)s given") % {
                "spent": obj.spent,
                "budget": obj.budget_points,
            }
        return _("%(spent)s of %(budget)s given") % {
            "spent": obj.spent,
            "budget": obj.budget_points,
        }

    def save_model(
        self, request: HttpRequest, obj: Campaign, form: CampaignForm, change: bool
    ) -> None:
        document = form.cleaned_data["document_json"]
        saved = campaign_save(document=document, instance=obj if change else None)
        obj.pk = saved.pk
        obj.refresh_from_db()


@admin.register(MemberSegment)
class MemberSegmentAdmin(ReadOnlyAdmin):
    list_display = ["member", "lifecycle", "recency", "frequency", "monetary", "computed_on"]
    list_filter = ["lifecycle", "recency", "frequency", "monetary"]
    search_fields = ["=member__number"]
    list_select_related = ["member"]
    show_full_result_count = False
    ordering = ["-member_id"]


@admin.register(RfmBounds)
class RfmBoundsAdmin(ReadOnlyAdmin):
    list_display = ["as_of", "members", "recency", "frequency", "monetary"]
    ordering = ["-as_of"]


@admin.register(Referral)
class ReferralAdmin(ReadOnlyAdmin):
    list_display = ["referee", "referrer", "status", "reason", "created_at", "decided_on"]
    list_filter = ["status", "reason"]
    search_fields = ["=referee__number", "=referrer__number"]
    list_select_related = ["referee", "referrer"]
    show_full_result_count = False
    ordering = ["-created_at"]


@admin.register(Broadcast)
class BroadcastAdmin(admin.ModelAdmin):
    """Staff write a message to a segment, tiers or everyone; *Preview and send*
    shows it and how many it would reach after consent and caps, and sends it."""

    form = BroadcastForm
    change_form_template = "admin/campaigns/broadcast/change_form.html"
    list_display = ["name", "kind", "channel", "status", "recipients", "created_at", "finished_at"]
    list_filter = ["status", "kind", "channel"]
    search_fields = ["name", "subject"]
    ordering = ["-created_at"]
    readonly_fields = ["status", "recipients", "created_by", "started_at", "finished_at"]

    def has_change_permission(self, request: HttpRequest, obj: Broadcast | None = None) -> bool:
        if obj is not None and obj.status != Broadcast.Status.DRAFT:
            return False  # what was sent stays as it was sent
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Broadcast | None = None) -> bool:
        if obj is not None and obj.status != Broadcast.Status.DRAFT:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(
        self, request: HttpRequest, obj: Broadcast, form: BroadcastForm, change: bool
    ) -> None:
        if not change:
            obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)

    def get_urls(self) -> list[URLPattern]:
        send = path(
            "<int:broadcast_id>/send/",
            self.admin_site.admin_view(self.send_view),
            name="campaigns_broadcast_send",
        )
        return [send, *super().get_urls()]

    def send_view(self, request: HttpRequest, broadcast_id: int) -> HttpResponse:
        broadcast = get_object_or_404(Broadcast, pk=broadcast_id)
        if not self.has_view_permission(request, broadcast):
            raise PermissionDenied
        if request.method == "POST":
            if not self.has_change_permission(request, broadcast):
                raise PermissionDenied
            try:
                broadcast_start(broadcast=broadcast)
            except DomainError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, _("Sending: the messages are being queued."))
            return redirect("admin:campaigns_broadcast_change", broadcast.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "broadcast": broadcast,
            "title": _("Preview and send: %(name)s") % {"name": broadcast.name},
            "reach": broadcast_reach(broadcast=broadcast),
            "texts": [(code, name, *broadcast.text_in(code)) for code, name in settings.LANGUAGES],
            "can_send": broadcast.status == Broadcast.Status.DRAFT
            and self.has_change_permission(request, broadcast),
        }
        return TemplateResponse(request, "admin/campaigns/broadcast/send.html", context)
