from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _

from .forms import SanctionForm
from .models import Member, Sanction, User
from .paging import ExactSearchMixin
from .selectors import member_number_like
from .services import SANCTIONS, member_sanction, sanction_kinds_for

# The most members one admin action sanctions (each under its own row lock).
SANCTION_SELECTED_MAX = 500


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
    """The member's sanctions as a timeline, newest first: when, what, the status
    before and after, who and why."""

    model = Sanction
    fields = ["created_at", "kind", "status_before", "status_after", "reason", "actor"]
    readonly_fields = fields
    ordering = ["-id"]
    template = "admin/members/sanction_timeline.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Sanction]:
        return super().get_queryset(request).select_related("actor")


def _by_number(term: str) -> Q | None:
    return Q(number=term.upper()) if member_number_like(term.upper()) else None


def _by_email(term: str) -> Q | None:
    return Q(user__email=term.lower()) if "@" in term else None


@admin.register(Member)
class MemberAdmin(ExactSearchMixin, admin.ModelAdmin):
    list_display = ["number", "email", "external_id", "status", "joined_at", "verified"]
    list_filter = ["status"]
    # Exact first (each an index lookup): the member number, the e-mail, the shop's
    # customer id, the phone; then a part of the e-mail address.
    exact_search = [_by_number, _by_email, "external_id", "phone"]
    search_fields = ["user__email"]
    substring_search = True
    search_help_text = _(
        "A member number, e-mail address, phone or the shop's customer id; "
        "else a part of the e-mail address."
    )
    list_select_related = ["user"]
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
        "marketing_inbox_at",
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
        "marketing_inbox_at",
    ]

    inlines = [SanctionInline]
    change_form_template = "admin/members/member_change_form.html"
    actions = ["sanction_selected"]

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

    def has_sanction_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("members.add_sanction")

    def sanction_view(self, request: HttpRequest, member_id: int) -> HttpResponse:
        if not self.has_sanction_permission(request):
            raise PermissionDenied
        member = get_object_or_404(Member, pk=member_id)
        form = SanctionForm(request.POST or None, kinds=sanction_kinds_for(status=member.status))
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

    @admin.action(description=_("Sanction the selected members"), permissions=["sanction"])
    def sanction_selected(
        self, request: HttpRequest, queryset: QuerySet[Member]
    ) -> HttpResponse | None:
        """The same sanction and reason for each selected member, one by one through
        the service; a member whose status does not take it is left as it is and
        named. First shows the form, then applies it."""
        members = list(queryset.order_by("pk")[: SANCTION_SELECTED_MAX + 1])
        if len(members) > SANCTION_SELECTED_MAX:
            self.message_user(
                request,
                _("Select at most %(count)d members at once.") % {"count": SANCTION_SELECTED_MAX},
                messages.ERROR,
            )
            return None
        form = SanctionForm(
            request.POST if "apply" in request.POST else None, kinds=list(SANCTIONS)
        )
        if not form.is_valid():
            context = {
                **self.admin_site.each_context(request),
                "title": _("Sanction the selected members"),
                "action": _("Apply the sanction"),
                "members": members,
                "form": form,
                "opts": self.model._meta,
            }
            return TemplateResponse(request, "admin/members/sanction_selected.html", context)
        refused = []
        for member in members:
            try:
                member_sanction(
                    member=member,
                    kind=form.cleaned_data["kind"],
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                )
            except ValidationError:
                refused.append(member.number)
        self.message_user(
            request,
            _("Sanction applied to %(count)d member(s).") % {"count": len(members) - len(refused)},
        )
        if refused:
            self.message_user(
                request,
                _("Not applied to %(numbers)s: their status does not take this sanction.")
                % {"numbers": ", ".join(refused)},
                messages.WARNING,
            )
        return None


@admin.register(Sanction)
class SanctionAdmin(ExactSearchMixin, ReadOnlyAdmin):
    """Every sanction staff applied: who, when, why (applied from a member's page,
    the members list's action or the fraud review queue)."""

    list_display = ["created_at", "member", "kind", "status_before", "status_after", "actor"]
    list_filter = ["kind"]
    list_select_related = ["member", "actor"]
    exact_search = ["member__number"]
    search_fields = ["=member__number"]
    ordering = ["-id"]
    fields = ["member", "kind", "status_before", "status_after", "reason", "actor", "created_at"]
