import uuid

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .services import MAX_POINTS


class AdjustPointsForm(forms.Form):
    points = forms.IntegerField(
        label=_("Points"),
        min_value=-MAX_POINTS,
        max_value=MAX_POINTS,
        help_text=_("Positive to credit, negative to debit."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=255, widget=forms.Textarea)
    key = forms.CharField(widget=forms.HiddenInput, initial=lambda: f"adjust:{uuid.uuid4()}")

    def clean_points(self) -> int:
        points: int = self.cleaned_data["points"]
        if points == 0:
            raise ValidationError(_("An adjustment cannot be zero."))
        return points

    def clean_reason(self) -> str:
        reason: str = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError(_("Say why."))
        return reason
