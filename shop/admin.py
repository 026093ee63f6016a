from django import forms
from django.contrib import admin
from django.db.models import Q, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy as _

from members.admin import ReadOnlyAdmin, ReadOnlyInline
from members.paging import ExactSearchMixin

from .models import (
    ApiKey,
    Order,
    OrderLine,
    Product,
    ProductPrice,
    Refund,
    RefundLine,
    Shop,
    ShopifyShop,
    WebhookDelivery,
)
from .services import api_key_create, api_key_revoke


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "created_at"]
    search_fields = ["=code", "name"]
    ordering = ["code"]

    def get_readonly_fields(self, request: HttpRequest, obj: Shop | None = None) -> list[str]:
        return ["code"] if obj is not None else []  # ledger references carry the code

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are created here and revoked, never deleted: orders and refunds keep
    pointing at the key that reported them. A new key is shown once, on the page
    that answers its creation, and kept nowhere else (no message, no session)."""

    list_display = ["name", "shop", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["shop", ("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["shop"]
    search_fields = ["name", "=prefix"]
    ordering = ["-id"]
    actions = ["revoke"]

    def get_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> list[str]:
        if obj is None:
            return ["shop", "name"]
        return ["shop", "name", "prefix", "created_at", "last_used_at", "revoked_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> list[str]:
        if obj is None:
            return []
        return ["shop", "prefix", "created_at", "last_used_at", "revoked_at"]

    def save_model(self, request: HttpRequest, obj: ApiKey, form: ModelForm, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        api_key, plaintext = api_key_create(name=obj.name, shop=obj.shop)
        for field in ApiKey._meta.concrete_fields:
            setattr(obj, field.attname, getattr(api_key, field.attname))
        obj._state.adding = False
        obj._state.db = api_key._state.db
        obj.plaintext = plaintext  # type: ignore[attr-defined]  # for response_add, once

    def response_add(
        self, request: HttpRequest, obj: ApiKey, post_url_continue: str | None = None
    ) -> HttpResponse:
        plaintext = obj.plaintext  # type: ignore[attr-defined]
        response = TemplateResponse(
            request,
            "admin/shop/apikey/created.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "api_key": obj,
                "plaintext": plaintext,
                "title": _("API key created"),
            },
        )
        add_never_cache_headers(response)
        return response

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description=_("Revoke the selected keys"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        keys = list(queryset.filter(revoked_at__isnull=True))
        for api_key in keys:
            api_key_revoke(api_key=api_key)
        self.message_user(request, _("%(count)d key(s) revoked.") % {"count": len(keys)})


def _masked(secret: str) -> str:
    return f"{'•' * 8}{secret[-4:]}" if len(secret) > 12 else "•" * 8


class ShopifyShopForm(forms.ModelForm):
    """The webhook secret is written, never shown: the field is always empty, and
    left empty it keeps the secret there is."""

    webhook_secret = forms.CharField(
        label=_("webhook secret"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=ShopifyShop._meta.get_field("webhook_secret").help_text,
    )
    clear_secret = forms.BooleanField(
        label=_("clear the secret"),
        required=False,
        help_text=_("Use the SHOPIFY_WEBHOOK_SECRET setting instead."),
    )

    class Meta:
        model = ShopifyShop
        fields = ["shop", "name", "domain", "webhook_secret", "is_active"]

    def clean_webhook_secret(self) -> str:
        secret: str = self.cleaned_data["webhook_secret"]
        if not secret and self.instance.pk:
            return self.instance.webhook_secret
        return secret

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        if cleaned.get("clear_secret"):
            cleaned["webhook_secret"] = ""
        return cleaned


@admin.register(ShopifyShop)
class ShopifyShopAdmin(admin.ModelAdmin):
    form = ShopifyShopForm
    list_display = ["domain", "name", "shop", "is_active", "created_at"]
    list_filter = ["is_active", "shop"]
    list_select_related = ["shop"]
    search_fields = ["domain", "name"]
    ordering = ["domain"]
    readonly_fields = ["secret"]

    def get_fields(self, request: HttpRequest, obj: ShopifyShop | None = None) -> list[str]:
        if obj is None:
            return ["shop", "name", "domain", "webhook_secret", "is_active"]
        return ["shop", "name", "domain", "secret", "webhook_secret", "clear_secret", "is_active"]

    @admin.display(description=_("current secret"))
    def secret(self, obj: ShopifyShop) -> str:
        return _masked(obj.webhook_secret) if obj.webhook_secret else "-"

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = ["sku", "category", "quantity", "amount_minor"]


class RefundInline(ReadOnlyInline):
    model = Refund
    fields = ["refund_id", "amount_minor", "created_at"]
    show_change_link = True


def _by_order_id(term: str) -> Q:
    # Every shop named, so that the unique (shop, order_id) index serves.
    return Q(shop_id__in=list(Shop.objects.values_list("pk", flat=True)), order_id=term)


@admin.register(Order)
class OrderAdmin(ExactSearchMixin, ReadOnlyAdmin):
    list_display = ["order_id", "member", "placed_at", "currency", "total_minor", "source"]
    list_select_related = ["member", "api_key", "shopify_shop"]
    exact_search = [_by_order_id, "member__number"]
    search_fields = ["=order_id", "=member__number"]
    search_help_text = _("The shop's order id, or a member number.")
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
    """Every delivery taken in and what became of it: filter by status to see the
    refused ones (answered 200 so that Shopify stops sending them)."""

    list_display = [
        "topic",
        "order_id",
        "status",
        "reason",
        "event_id",
        "store",
        "received_at",
    ]
    list_filter = ["status", "topic", "reason"]
    list_select_related = ["store"]
    search_fields = ["=order_id", "=event_id", "=webhook_id"]
    show_full_result_count = False
    ordering = ["-id"]


class ProductPriceInline(ReadOnlyInline):
    model = ProductPrice
    fields = ["changed_at", "price_minor", "currency"]
    ordering = ["-changed_at"]


@admin.register(Product)
class ProductAdmin(ReadOnlyAdmin):
    """The catalogue as the shop reported it (the API and Shopify write it), each
    product with its price history, newest first."""

    list_display = ["sku", "name", "category", "price_minor", "currency", "active", "updated_at"]
    list_filter = ["active", "consumable", "currency"]
    search_fields = ["=sku", "name", "=category"]
    show_full_result_count = False
    ordering = ["sku"]
    inlines = [ProductPriceInline]
