from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from pydantic import ValidationError as DocumentError

from batch.services import program_today
from members.models import Member
from members.selectors import member_get

from .documents import CouponTerms, error_lines
from .models import CouponKind, DrawPrize, Reward
from .services.batches import MAX_COUNT
from .services.coupons import coupon_expiry
from .services.draws import prize_stock_add


class CouponTermsForm(forms.Form):
    """What a coupon gives: checked by the same document as imports and the
    command (rewards.documents.CouponTerms); `cleaned_data["spec"]` is the spec."""

    kind = forms.ChoiceField(label=_("Kind"), choices=CouponKind.choices)
    value = forms.CharField(
        label=_("Value"),
        required=False,
        max_length=32,
        help_text=_("An amount (10.00) or a whole percent (15); empty for the other kinds."),
    )
    max_discount = forms.CharField(
        label=_("Largest discount"), required=False, max_length=32, help_text=_("Percent only.")
    )
    min_spend = forms.CharField(label=_("Minimum spend"), initial="0", max_length=32)
    uses = forms.IntegerField(
        label=_("Uses allowed"), min_value=0, initial=1, help_text=_("0: unlimited.")
    )
    expires = forms.DateField(
        label=_("Last day"),
        required=False,
        help_text=_("The last day it can be used (YYYY-MM-DD); empty: no end."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean_expires(self) -> object:
        expires = self.cleaned_data["expires"]
        if expires is not None and expires < program_today():
            raise ValidationError(_("The last day cannot be in the past."))
        return expires

    def clean(self) -> dict:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            terms = CouponTerms(
                kind=data["kind"],
                value=data["value"] or None,
                max_discount=data["max_discount"] or None,
                min_spend=data["min_spend"],
                uses=data["uses"] or None,
            )
        except DocumentError as error:
            raise ValidationError(error_lines(error)) from None
        expires = data.get("expires")
        data["spec"] = terms.spec(expires_at=coupon_expiry(last_day=expires) if expires else None)
        return data


class IssueCouponForm(CouponTermsForm):
    member = forms.CharField(label=_("Member number"), max_length=20)
    field_order = ["member"]

    def clean_member(self) -> Member:
        member = member_get(number=self.cleaned_data["member"].strip().upper())
        if member is None:
            raise ValidationError(_("No member has this number."))
        return member


class CouponBatchForm(CouponTermsForm):
    name = forms.CharField(label=_("Name"), max_length=100)
    count = forms.IntegerField(label=_("Number of codes"), min_value=1, max_value=MAX_COUNT)
    prefix = forms.CharField(
        label=_("Code prefix"), required=False, max_length=10, help_text=_("e.g. XMAS-")
    )
    field_order = ["name", "count", "prefix"]


class StockAdjustForm(forms.Form):
    change = forms.IntegerField(
        label=_("Change"), help_text=_("Positive to add stock, negative to take it away.")
    )
    reason = forms.CharField(label=_("Reason"), max_length=200, widget=forms.Textarea)

    def clean_change(self) -> int:
        change: int = self.cleaned_data["change"]
        if change == 0:
            raise ValidationError(_("The change cannot be zero."))
        return change

    def clean_reason(self) -> str:
        reason: str = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError(_("Say why."))
        return reason


class ShipGiftForm(forms.Form):
    note = forms.CharField(
        label=_("Shipping note"),
        max_length=200,
        required=False,
        help_text=_("The carrier and tracking number; the member is told."),
    )


class RewardForm(forms.ModelForm):
    image_url = forms.URLField(label=_("image URL"), required=False, assume_scheme="https")

    class Meta:
        model = Reward
        exclude: list[str] = []

    def clean(self) -> dict:
        data = super().clean() or {}
        kind, coupon = data.get("kind"), data.get("coupon")
        if kind == Reward.Kind.GIFT and coupon is not None:
            self.add_error("coupon", _("A gift issues no coupon: leave it empty."))
        elif kind == Reward.Kind.DRAW and coupon is not None:
            self.add_error("coupon", _("A draw's prizes issue the coupons: leave it empty."))
        elif kind and kind not in (Reward.Kind.GIFT, Reward.Kind.DRAW):
            if coupon is None:
                self.add_error("coupon", _("A coupon or voucher needs the coupon it issues."))
                return data
            try:
                terms = CouponTerms.model_validate(coupon)
            except DocumentError as error:
                self.add_error("coupon", error_lines(error, prefix="coupon"))
                return data
            if kind == Reward.Kind.VOUCHER and terms.kind != CouponKind.AMOUNT:
                self.add_error("coupon", _("A cash voucher issues an amount coupon."))
            data["coupon"] = terms.model_dump()
        return data


class DrawPrizeForm(forms.ModelForm):
    """A prize of a draw. Its stock is set when it is added; after that it only
    changes by `add_stock` (an update by the difference, never below zero), so a
    save never writes back a stock that plays have taken from meanwhile."""

    add_stock = forms.IntegerField(
        label=_("Add stock"),
        required=False,
        help_text=_("Negative to take some away; only for a prize with stock."),
    )

    class Meta:
        model = DrawPrize
        fields = ["name", "name_zh_hans", "name_zh_hant", "kind", "chance", "points", "coupon"]
        fields += ["stock", "active"]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if self.instance.pk is not None:
            self.fields["stock"].disabled = True
        else:
            self.fields["add_stock"].disabled = True

    def clean(self) -> dict:
        data = super().clean() or {}
        kind = data.get("kind")
        if kind == DrawPrize.Kind.POINTS and not data.get("points"):
            self.add_error("points", _("A points prize needs the points it gives."))
        if kind != DrawPrize.Kind.POINTS and data.get("points"):
            self.add_error("points", _("Only a points prize gives points: leave it empty."))
        coupon = data.get("coupon")
        if kind == DrawPrize.Kind.COUPON:
            if coupon is None:
                self.add_error("coupon", _("A coupon prize needs the coupon it issues."))
            else:
                try:
                    data["coupon"] = CouponTerms.model_validate(coupon).model_dump()
                except DocumentError as error:
                    self.add_error("coupon", error_lines(error, prefix="coupon"))
        elif coupon is not None:
            self.add_error("coupon", _("Only a coupon prize issues a coupon: leave it empty."))
        change = data.get("add_stock")
        if change and self.instance.pk is not None and self.instance.stock is None:
            self.add_error("add_stock", _("This prize has unlimited stock."))
        return data

    def save(self, commit: bool = True) -> DrawPrize:
        if self.instance.pk is None or not commit:
            return super().save(commit=commit)
        prize = super().save(commit=False)
        concrete = {field.name for field in DrawPrize._meta.concrete_fields}
        fields = [name for name in self._meta.fields or [] if name in concrete - {"id", "stock"}]
        prize.save(update_fields=fields)
        if change := self.cleaned_data.get("add_stock"):
            prize_stock_add(prize=prize, change=change)
        return prize


class DrawPrizeFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        total = sum(
            form.cleaned_data.get("chance") or 0
            for form in self.forms
            if form.cleaned_data
            and form.cleaned_data.get("active")
            and not form.cleaned_data.get("DELETE")
        )
        if total > 100:
            raise ValidationError(
                _("The active prizes' chances add up to %(total)s%%: at most 100%% in all.")
                % {"total": total}
            )
