from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import Member, User


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
