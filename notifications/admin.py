"""The outbox for staff: every message with its state and reason, filterable;
failed or suppressed ones can be queued again. Webhook endpoints (added here or
with `manage.py webhook_endpoint_add`) and the log of their deliveries, with
redelivery."""

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import Message, Suppression, Unsubscription, WebhookDelivery, WebhookEndpoint
from .services import messages_requeue
from .webhooks import (
    EVENTS,
    WebhookError,
    webhook_redeliver,
    webhook_secret_new,
    webhook_url_check,
)


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


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    list_display = ["email", "reason", "note", "created_at"]
    list_filter = ["reason"]
    search_fields = ["email"]
    ordering = ["-created_at"]
    show_full_result_count = False


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


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        choices=[(event, event) for event in EVENTS], widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "events", "description", "active"]

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            webhook_url_check(url)
        except WebhookError as error:
            raise forms.ValidationError(str(error)) from None
        return url


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["url", "events", "active", "created_at"]
    list_filter = ["active"]
    readonly_fields = ["secret", "created_at"]

    def save_model(
        self, request: HttpRequest, obj: WebhookEndpoint, form: forms.ModelForm, change: bool
    ) -> None:
        if not change:
            obj.secret = webhook_secret_new()
        super().save_model(request, obj, form, change)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "event",
        "endpoint",
        "state",
        "attempts",
        "response_status",
        "response_ms",
        "error",
        "delivered_at",
    ]
    list_filter = ["state", "event"]
    search_fields = ["=event_id"]
    list_select_related = ["endpoint"]
    ordering = ["-created_at"]
    show_full_result_count = False
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    actions = ["redeliver"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description=_("Deliver again"), permissions=["change"])
    def redeliver(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        count = webhook_redeliver(ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(
            request,
            ngettext("%d delivery queued again.", "%d deliveries queued again.", count) % count,
            messages.SUCCESS,
        )
