"""The outbox for staff: every message with its state and reason, filterable;
failed or suppressed ones can be queued again."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import Message, Unsubscription
from .services import messages_requeue


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "member",
        "template",
        "channel",
        "kind",
        "state",
        "reason",
        "attempts",
        "next_attempt_at",
        "sent_at",
    ]
    list_filter = ["state", "channel", "kind", "template"]
    search_fields = ["member__number", "=key"]
    list_select_related = ["member"]
    ordering = ["-created_at"]
    show_full_result_count = False
    date_hierarchy = "created_at"
    raw_id_fields = ["member"]
    actions = ["resend"]
    readonly_fields = [f.name for f in Message._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(
        description=_("Send the failed or suppressed messages again"),
        permissions=["change"],
    )
    def resend(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        count = messages_requeue(ids=queryset.values_list("pk", flat=True))
        self.message_user(
            request,
            ngettext("%d message queued again.", "%d messages queued again.", count) % count,
            messages.SUCCESS,
        )


@admin.register(Unsubscription)
class UnsubscriptionAdmin(admin.ModelAdmin):
    list_display = ["created_at", "member", "channel"]
    list_filter = ["channel"]
    search_fields = ["member__number"]
    list_select_related = ["member"]
    ordering = ["-created_at"]
    show_full_result_count = False
    readonly_fields = ["member", "channel", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
