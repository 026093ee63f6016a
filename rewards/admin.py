"""Rewards and coupons in the admin. Rewards are editable data except their
stock, which changes only through the adjust form (with a reason); coupons are
issued, voided and generated in batches through the services; uses, redemptions
and stock adjustments are read-only."""

from collections.abc import Iterator
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.forms import Form
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext_lazy as _

from members.admin import ReadOnlyAdmin, ReadOnlyInline
from members.paging import ExactSearchMixin
from shop.errors import DomainError
from shop.money import format_program_money

from .forms import (
    CouponBatchForm,
    DrawPrizeForm,
    DrawPrizeFormSet,
    IssueCouponForm,
    RewardForm,
    ShipGiftForm,
    StockAdjustForm,
)
from .models import (
    Coupon,
    CouponBatch,
    CouponUse,
    DrawPlay,
    DrawPrize,
    Reward,
    RewardRedemption,
    StockAdjustment,
)
from .selectors import draw_results
from .services.batches import coupon_batch_codes, coupon_batch_create
from .services.coupons import code_normalize, coupon_create, coupon_status, coupon_void
from .services.gifts import gift_ship
from .services.rewards import reward_stock_adjust
from .tasks import generate_coupon_batch


def _form_page(
    admin_: admin.ModelAdmin, request: HttpRequest, form: Form, title: str, action: str
) -> TemplateResponse:
    context = {
        **admin_.admin_site.each_context(request),
        "title": title,
        "action": action,
        "form": form,
        "opts": admin_.model._meta,
    }
    return TemplateResponse(request, "admin/rewards/form.html", context)


class StockAdjustmentInline(ReadOnlyInline):
    model = StockAdjustment
    fields = ["created_at", "change", "stock_after", "reason", "actor"]
    readonly_fields = fields
    ordering = ["-id"]


class DrawPrizeInline(admin.StackedInline):
    """A draw's prizes: added and edited here, never deleted (plays point at
    them: make one inactive instead)."""

    model = DrawPrize
    form = DrawPrizeForm
    formset = DrawPrizeFormSet
    extra = 1
    can_delete = False
    fields = [
        ("name", "kind", "chance", "active"),
        ("name_zh_hans", "name_zh_hant"),
        ("points", "coupon"),
        ("stock", "add_stock"),
    ]


@admin.register(Reward)
class RewardAdmin(admin.ModelAdmin):
    form = RewardForm
    list_display = [
        "code",
        "name",
        "kind",
        "points",
        "stock",
        "min_tier",
        "per_member_limit",
        "starts_at",
        "ends_at",
        "active",
    ]
    list_filter = ["kind", "active"]
    search_fields = ["code", "name"]
    list_select_related = ["min_tier"]

    def get_inlines(self, request: HttpRequest, obj: Reward | None = None) -> list:
        """A draw's prizes are added once it is saved as a draw."""
        if obj is None:
            return []
        if obj.kind == Reward.Kind.DRAW:
            return [DrawPrizeInline]
        return [StockAdjustmentInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Reward | None = None) -> list[str]:
        """The stock is set when a reward is added; after that, only adjusted."""
        if obj is not None and obj.kind == Reward.Kind.DRAW:
            return ["stock", "kind", "draw_results"]
        return ["stock"] if obj is not None else []

    @admin.display(description=_("plays and realised odds"))
    def draw_results(self, obj: Reward) -> str:
        plays, rows = draw_results(reward=obj)
        return render_to_string(
            "admin/rewards/draw_results.html", {"plays": plays, "rows": rows, "reward": obj}
        )

    def has_delete_permission(self, request: HttpRequest, obj: Reward | None = None) -> bool:
        return False  # redemptions point at it: make it inactive instead

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<int:reward_id>/adjust-stock/",
                self.admin_site.admin_view(self.adjust_stock_view),
                name="rewards_reward_adjust_stock",
            ),
            *super().get_urls(),
        ]

    def adjust_stock_view(self, request: HttpRequest, reward_id: int) -> HttpResponse:
        if not request.user.has_perm("rewards.adjust_stock"):
            raise PermissionDenied
        reward = get_object_or_404(Reward, pk=reward_id)
        form = StockAdjustForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                reward = reward_stock_adjust(
                    reward=reward,
                    change=form.cleaned_data["change"],
                    reason=form.cleaned_data["reason"],
                    actor=request.user,  # type: ignore[arg-type]
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(
                    request,
                    _("%(reward)s: %(stock)s left.") % {"reward": reward, "stock": reward.stock},
                )
                return redirect("admin:rewards_reward_change", reward.pk)
        title = _("Adjust the stock of %(reward)s (%(stock)s left)") % {
            "reward": reward,
            "stock": reward.stock if reward.stock is not None else _("unlimited"),
        }
        return _form_page(self, request, form, title, str(_("Adjust stock")))


class CouponUseInline(ReadOnlyInline):
    model = CouponUse
    fields = ["order_id", "member", "total_minor", "discount_minor", "created_at", "released_at"]
    readonly_fields = fields
    ordering = ["-id"]


@admin.register(Coupon)
class CouponAdmin(ExactSearchMixin, admin.ModelAdmin):
    list_display = [
        "code",
        "kind",
        "value",
        "owner",
        "uses",
        "expires_at",
        "status",
        "source",
        "source_ref",
    ]
    list_filter = ["kind", "source"]
    exact_search = ["code", "owner__number", "source_ref"]
    search_fields = ["=code", "=owner__number", "=source_ref"]
    search_help_text = _("A code, a member number, or a source (e.g. a reward's code).")
    list_select_related = ["owner"]
    ordering = ["-id"]
    actions = ["void_selected"]
    inlines = [CouponUseInline]
    exclude: list[str] = []

    def get_readonly_fields(self, request: HttpRequest, obj: Coupon | None = None) -> list[str]:
        return [field.name for field in Coupon._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # issued to a member, or in a batch, through the services

    def has_delete_permission(self, request: HttpRequest, obj: Coupon | None = None) -> bool:
        return False

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Coupon], search_term: str
    ) -> tuple[QuerySet[Coupon], bool]:
        return super().get_search_results(request, queryset, code_normalize(search_term))

    @admin.display(description=_("value"))
    def value(self, obj: Coupon) -> str:
        if obj.kind == "amount":
            return format_program_money(obj.amount_minor)
        if obj.kind == "percent":
            cap = (
                f" ≤ {format_program_money(obj.max_discount_minor)}"
                if obj.max_discount_minor
                else ""
            )
            return f"{obj.percent}%{cap}"
        return ""

    @admin.display(description=_("uses"))
    def uses(self, obj: Coupon) -> str:
        return f"{obj.uses_count} / {obj.uses_allowed if obj.uses_allowed is not None else '∞'}"

    @admin.display(description=_("status"))
    def status(self, obj: Coupon) -> str:
        return coupon_status(coupon=obj)

    @admin.action(description=_("Void the selected coupons"), permissions=["change"])
    def void_selected(self, request: HttpRequest, queryset: QuerySet[Coupon]) -> None:
        reason = f"voided by {request.user}"
        voided = sum(coupon_void(coupon=coupon, reason=reason) for coupon in queryset)
        messages.success(request, _("%(count)s coupons voided.") % {"count": voided})

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "issue/",
                self.admin_site.admin_view(self.issue_view),
                name="rewards_coupon_issue",
            ),
            *super().get_urls(),
        ]

    def issue_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_change_permission(request):
            raise PermissionDenied
        form = IssueCouponForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            coupon = coupon_create(
                spec=form.cleaned_data["spec"],
                source=Coupon.Source.STAFF,
                owner=form.cleaned_data["member"],
                actor=request.user,  # type: ignore[arg-type]
            )
            messages.success(
                request,
                _("Coupon %(code)s issued to %(member)s.")
                % {"code": coupon.code, "member": coupon.owner},
            )
            return redirect("admin:rewards_coupon_change", coupon.pk)
        title = str(_("Issue a coupon to a member"))
        return _form_page(self, request, form, title, str(_("Issue")))


@admin.register(CouponBatch)
class CouponBatchAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "count", "generated", "status", "created_by", "created_at"]
    list_filter = ["status", "kind"]
    list_select_related = ["created_by"]
    ordering = ["-id"]

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "generate/",
                self.admin_site.admin_view(self.generate_view),
                name="rewards_couponbatch_generate",
            ),
            path(
                "<int:batch_id>/codes.csv",
                self.admin_site.admin_view(self.csv_view),
                name="rewards_couponbatch_csv",
            ),
            *super().get_urls(),
        ]

    def generate_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm("rewards.add_couponbatch"):
            raise PermissionDenied
        form = CouponBatchForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                with transaction.atomic():
                    batch = coupon_batch_create(
                        name=form.cleaned_data["name"],
                        count=form.cleaned_data["count"],
                        spec=form.cleaned_data["spec"],
                        prefix=form.cleaned_data["prefix"],
                        actor=request.user,  # type: ignore[arg-type]
                    )
                    transaction.on_commit(lambda: generate_coupon_batch.delay(batch.pk))
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(
                    request,
                    _("Generating %(count)s codes: this page shows the progress.")
                    % {"count": batch.count},
                )
                return redirect("admin:rewards_couponbatch_change", batch.pk)
        title = str(_("Generate a batch of coupon codes"))
        return _form_page(self, request, form, title, str(_("Generate")))

    def csv_view(self, request: HttpRequest, batch_id: int) -> StreamingHttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        batch = get_object_or_404(CouponBatch, pk=batch_id)

        def rows() -> Iterator[str]:
            yield "code\r\n"
            for code in coupon_batch_codes(batch=batch):
                yield f"{code}\r\n"

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="coupons-{batch.pk}.csv"'
        return response


class GiftShipAdmin(ReadOnlyAdmin):
    """A model of gifts (`ShippedGift`), read-only but for **Mark shipped** on
    the change page of a gift waiting `to_ship`: a form for the carrier and
    tracking number, through `gift_ship`, which tells the member."""

    readonly_fields = ["created_at", "shipped_at", "shipping_note"]
    change_form_template = "admin/rewards/gift_change_form.html"

    def _url_name(self, view: str) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_{view}"

    def _may_ship(self, request: HttpRequest) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.change_{self.opts.model_name}")

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<int:gift_id>/ship/",
                self.admin_site.admin_view(self.ship_view),
                name=self._url_name("ship"),
            ),
            *super().get_urls(),
        ]

    def render_change_form(
        self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any
    ) -> HttpResponse:
        gift = context.get("original")
        if gift is not None and gift.status == gift.Status.TO_SHIP and self._may_ship(request):
            context["ship_url"] = reverse(f"admin:{self._url_name('ship')}", args=[gift.pk])
        return super().render_change_form(request, context, *args, **kwargs)

    def ship_view(self, request: HttpRequest, gift_id: int) -> HttpResponse:
        if not self._may_ship(request):
            raise PermissionDenied
        gift = get_object_or_404(
            self.model.objects.select_related(*self.list_select_related), pk=gift_id
        )
        form = ShipGiftForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                gift_ship(gift=gift, note=form.cleaned_data["note"])
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("Marked shipped; the member is told."))
                return redirect(f"admin:{self._url_name('change')}", gift.pk)
        title = _("Ship %(reward)s to %(member)s") % {
            "reward": gift.prize if isinstance(gift, DrawPlay) else gift.reward,
            "member": gift.member.number,
        }
        return _form_page(self, request, form, title, str(_("Mark shipped")))


@admin.register(RewardRedemption)
class RewardRedemptionAdmin(GiftShipAdmin):
    """Redemptions, read-only; a gift waiting `to_ship` is marked shipped here
    (its change page's **Mark shipped**), which tells the member."""

    list_display = [
        "public_id",
        "member",
        "reward",
        "points",
        "status",
        "coupon",
        "created_at",
        "shipped_at",
    ]
    list_filter = ["status", "reward"]
    search_fields = ["=member__number", "=coupon__code"]
    list_select_related = ["member", "reward", "coupon"]
    show_full_result_count = False
    ordering = ["-id"]


@admin.register(StockAdjustment)
class StockAdjustmentAdmin(ReadOnlyAdmin):
    list_display = ["reward", "change", "stock_after", "reason", "actor", "created_at"]
    list_select_related = ["reward", "actor"]
    ordering = ["-id"]


@admin.register(DrawPlay)
class DrawPlayAdmin(GiftShipAdmin):
    """Plays, read-only; a gift won waits `to_ship` (filter by status) and is
    marked shipped here, as a redeemed gift is."""

    list_display = [
        "created_at",
        "member",
        "reward",
        "points",
        "status",
        "prize",
        "roll",
        "shipped_at",
    ]
    list_filter = ["status", "reward"]
    search_fields = ["=member__number"]
    list_select_related = ["member", "reward", "prize"]
    show_full_result_count = False
    ordering = ["-id"]
