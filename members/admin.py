from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _

from .forms import SanctionForm
from .models import Member, Sanction, User
from .services import member_sanction


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Facts reported by the shop: staff look, nobody edits."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class SanctionInline(ReadOnlyInline):
    model = Sanction
    fields = ["created_at", "kind", "status_before", "status_after", "reason", "actor"]
    readonly_fields = fields
    ordering = ["-id"]


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ["number", "email", "external_id", "status", "joined_at", "verified"]
    list_filter = ["status"]
    search_fields = ["=number", "=external_id", "=user__email", "=phone"]
    list_select_related = ["user"]
    show_full_result_count = False
    ordering = ["-id"]
    readonly_fields = [
        "number",
        "user",
        "status",
        "referral_code",
        "joined_at",
        "email_verified_at",
        "birthday_set_at",
        "marketing_email_at",
        "marketing_sms_at",
    ]
    fields = [
        "number",
        "user",
        "external_id",
        "status",
        "phone",
        "birthday",
        "birthday_set_at",
        "language",
        "referral_code",
        "joined_at",
        "email_verified_at",
        "marketing_email_at",
        "marketing_sms_at",
    ]

    inlines = [SanctionInline]
    change_form_template = "admin/members/member_change_form.html"

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False

    @admin.display(description=_("e-mail"), ordering="user__email")
    def email(self, obj: Member) -> str:
        return obj.user.email or ""

    @admin.display(description=_("verified"), boolean=True)
    def verified(self, obj: Member) -> bool:
        return obj.is_verified

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<int:member_id>/sanction/",
                self.admin_site.admin_view(self.sanction_view),
                name="members_member_sanction",
            ),
            *super().get_urls(),
        ]

    def sanction_view(self, request: HttpRequest, member_id: int) -> HttpResponse:
        if not request.user.has_perm("members.add_sanction"):
            raise PermissionDenied
        member = get_object_or_404(Member, pk=member_id)
        form = SanctionForm(request.POST or None, status=member.status)
        if request.method == "POST" and form.is_valid():
            try:
                sanction = member_sanction(
                    member=member,
                    kind=form.cleaned_data["kind"],
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(
                    request,
                    _("%(sanction)s applied to %(number)s; status now %(status)s.")
                    % {
                        "sanction": sanction.get_kind_display(),
                        "number": member.number,
                        "status": sanction.get_status_after_display(),
                    },
                )
                return redirect("admin:members_member_change", member.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Sanction %(number)s") % {"number": member.number},
            "action": _("Apply the sanction"),
            "member": member,
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/members/sanction.html", context)


@admin.register(Sanction)
class SanctionAdmin(ReadOnlyAdmin):
    """Every sanction staff applied: who, when, why (applied from a member's page)."""

    list_display = ["created_at", "member", "kind", "status_before", "status_after", "actor"]
    list_filter = ["kind"]
    list_select_related = ["member", "actor"]
    search_fields = ["=member__number"]
    show_full_result_count = False
    ordering = ["-id"]
    fields = ["member", "kind", "status_before", "status_after", "reason", "actor", "created_at"]
