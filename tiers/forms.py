from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from batch.services import program_today

from .models import Tier


class OverrideTierForm(forms.Form):
    tier = forms.ModelChoiceField(label=_("Tier"), queryset=Tier.objects.order_by("rank"))
    until = forms.DateField(
        label=_("Held until"),
        help_text=_("The last day the override holds (YYYY-MM-DD)."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    reason = forms.CharField(label=_("Reason"), max_length=200, widget=forms.Textarea)

    def clean_until(self) -> object:
        until = self.cleaned_data["until"]
        if until < program_today():
            raise ValidationError(_("The override cannot end in the past."))
        return until

    def clean_reason(self) -> str:
        reason: str = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError(_("Say why."))
        return reason


class TierForm(forms.ModelForm):
    class Meta:
        model = Tier
        fields = [
            "code",
            "name",
            "name_zh_hans",
            "name_zh_hant",
            "description",
            "description_zh_hans",
            "description_zh_hant",
            "rank",
            "threshold_minor",
            "min_orders",
            "multiplier",
            "discount_percent",
            "free_shipping",
            "priority_support",
            "birthday_gift",
            "early_access",
        ]

    def clean(self) -> dict:
        data = super().clean() or {}
        rank = data.get("rank")
        lowest = Tier.objects.exclude(pk=self.instance.pk).order_by("rank").first()
        is_lowest = lowest is None or (rank is not None and rank < lowest.rank)
        if is_lowest and (data.get("threshold_minor") or data.get("min_orders")):
            raise ValidationError(
                _("The lowest tier is where every member starts: it needs no spend or orders.")
            )
        return data
