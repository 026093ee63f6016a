"""Tiers in the admin: tiers and paid plans are editable data; a member's tier
changes only through the override form (which calls the service), and the
history and subscriptions are read-only (notices are in the outbox)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _

from members.admin import ReadOnlyAdmin, ReadOnlyInline
from members.models import Member
from points.admin import MemberAdmin as PointsMemberAdmin
from shop.money import format_program_money

from .forms import OverrideTierForm, TierForm
from .models import PaidPlan, Subscription, Tier, TierChange
from .selectors import tier_status
from .services import TierError, tier_override

BENEFITS = [
    "discount_percent",
    "free_shipping",
    "priority_support",
    "birthday_gift",
    "early_access",
]


@admin.register(Tier)
class TierAdmin(admin.ModelAdmin):
    form = TierForm
    list_display = ["name", "code", "rank", "threshold", "min_orders", "multiplier", *BENEFITS]
    ordering = ["rank"]

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # one at a time, so the lowest tier stays
        return actions

    def has_delete_permission(self, request: HttpRequest, obj: Tier | None = None) -> bool:
        """The lowest tier is where every member starts: it stays."""
        lowest = Tier.objects.order_by("rank").first()
        if obj is not None and lowest is not None and obj.pk == lowest.pk:
            return False
        return super().has_delete_permission(request, obj)

    @admin.display(description=_("qualifying spend"), ordering="threshold_minor")
    def threshold(self, obj: Tier) -> str:
        return format_program_money(obj.threshold_minor)


@admin.register(PaidPlan)
class PaidPlanAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "code",
        "sku",
        "price",
        "duration_days",
        "extra_multiplier",
        "is_active",
    ]
    list_filter = ["is_active"]

    @admin.display(description=_("price"), ordering="price_minor")
    def price(self, obj: PaidPlan) -> str:
        return format_program_money(obj.price_minor)


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = ["member", "plan", "starts_at", "ends_at", "status", "reminded_for"]
    list_filter = ["status", "plan"]
    search_fields = ["=member__number"]
    list_select_related = ["member", "plan"]
    show_full_result_count = False
    ordering = ["-id"]


@admin.register(TierChange)
class TierChangeAdmin(ReadOnlyAdmin):
    list_display = ["member", "reason", "from_tier", "to_tier", "plan", "as_of", "actor", "note"]
    list_filter = ["reason", "to_tier", "as_of"]
    search_fields = ["=member__number"]
    list_select_related = ["member", "from_tier", "to_tier", "plan", "actor"]
    show_full_result_count = False
    ordering = ["-id"]


class TierChangeInline(ReadOnlyInline):
    model = TierChange
    fk_name = "member"
    fields = ["as_of", "reason", "from_tier", "to_tier", "plan", "actor", "note"]
    readonly_fields = fields
    ordering = ["-id"]
    verbose_name_plural = _("tier history")


admin.site.unregister(Member)


@admin.register(Member)
class MemberAdmin(PointsMemberAdmin):
    readonly_fields = [*PointsMemberAdmin.readonly_fields, "tier"]
    fields = [*PointsMemberAdmin.fields, "tier"]
    inlines = [*PointsMemberAdmin.inlines, TierChangeInline]
    change_form_template = "admin/tiers/member_change_form.html"

    @admin.display(description=_("tier"))
    def tier(self, obj: Member) -> str:
        status = tier_status(member=obj)
        parts = [
            str(_("%(tier)s; qualifying spend %(spend)s in %(orders)s orders"))
            % {
                "tier": status.tier.name,
                "spend": format_program_money(status.spend_minor),
                "orders": status.orders,
            }
        ]
        if status.grace_until:
            parts.append(str(_("in grace until %(day)s")) % {"day": status.grace_until})
        if status.override_until:
            parts.append(str(_("held until %(day)s")) % {"day": status.override_until})
        if status.subscription:
            parts.append(
                str(_("paid plan %(plan)s until %(day)s"))
                % {
                    "plan": status.subscription.plan.name,
                    "day": status.subscription.ends_at.date(),
                }
            )
        return "; ".join(parts)

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<int:member_id>/override-tier/",
                self.admin_site.admin_view(self.override_tier_view),
                name="members_member_override_tier",
            ),
            *super().get_urls(),
        ]

    def override_tier_view(self, request: HttpRequest, member_id: int) -> HttpResponse:
        if not request.user.has_perm("tiers.override_tier"):
            raise PermissionDenied
        member = get_object_or_404(Member, pk=member_id)
        form = OverrideTierForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                tier_override(
                    member=member,
                    tier=form.cleaned_data["tier"],
                    until=form.cleaned_data["until"],
                    reason=form.cleaned_data["reason"],
                    actor=request.user,  # type: ignore[arg-type]
                )
            except TierError as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request,
                    _("%(number)s is now %(tier)s until %(day)s.")
                    % {
                        "number": member.number,
                        "tier": form.cleaned_data["tier"].name,
                        "day": form.cleaned_data["until"],
                    },
                )
                return redirect("admin:members_member_change", member.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Override the tier of %(number)s") % {"number": member.number},
            "action": _("Override tier"),
            "member": member,
            "status": tier_status(member=member),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/tiers/override_tier.html", context)
