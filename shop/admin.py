from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from members.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import ApiKey, Order, OrderLine, Refund, RefundLine, ShopifyShop, WebhookDelivery
from .services import api_key_create, api_key_revoke


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are created here (the key is shown once, in a message) and revoked, never
    deleted: orders and refunds keep pointing at the key that reported them."""

    list_display = ["name", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "=prefix"]
    ordering = ["-id"]
    actions = ["revoke"]

    def get_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> list[str]:
        if obj is None:
            return ["name"]
        return ["name", "prefix", "created_at", "last_used_at", "revoked_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> list[str]:
        if obj is None:
            return []
        return ["prefix", "created_at", "last_used_at", "revoked_at"]

    def save_model(self, request: HttpRequest, obj: ApiKey, form: ModelForm, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        api_key, plaintext = api_key_create(name=obj.name)
        for field in ApiKey._meta.concrete_fields:
            setattr(obj, field.attname, getattr(api_key, field.attname))
        obj._state.adding = False
        obj._state.db = api_key._state.db
        messages.warning(
            request,
            _("The new key is %(key)s. Copy it now: it is not stored and will not be shown again.")
            % {"key": plaintext},
        )

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description=_("Revoke the selected keys"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        keys = list(queryset.filter(revoked_at__isnull=True))
        for api_key in keys:
            api_key_revoke(api_key=api_key)
        self.message_user(request, _("%(count)d key(s) revoked.") % {"count": len(keys)})


@admin.register(ShopifyShop)
class ShopifyShopAdmin(admin.ModelAdmin):
    list_display = ["domain", "name", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["domain", "name"]
    ordering = ["domain"]

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = ["sku", "category", "quantity", "amount_minor"]


class RefundInline(ReadOnlyInline):
    model = Refund
    fields = ["refund_id", "amount_minor", "created_at"]
    show_change_link = True


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ["order_id", "member", "placed_at", "currency", "total_minor", "source"]
    list_select_related = ["member", "api_key", "shopify_shop"]
    search_fields = ["=order_id", "=member__number"]
    show_full_result_count = False
    ordering = ["-id"]
    raw_id_fields = ["member"]
    inlines = [OrderLineInline, RefundInline]

    @admin.display(description=_("reported by"))
    def source(self, obj: Order) -> str:
        return str(obj.api_key or obj.shopify_shop or "")


class RefundLineInline(ReadOnlyInline):
    model = RefundLine
    fields = ["sku", "quantity", "amount_minor"]


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ["refund_id", "order", "amount_minor", "created_at"]
    list_select_related = ["order"]
    search_fields = ["=refund_id", "=order__order_id"]
    show_full_result_count = False
    ordering = ["-id"]
    raw_id_fields = ["order"]
    inlines = [RefundLineInline]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["topic", "event_id", "webhook_id", "shop", "received_at"]
    list_filter = ["topic"]
    list_select_related = ["shop"]
    search_fields = ["=event_id", "=webhook_id"]
    show_full_result_count = False
    ordering = ["-id"]
