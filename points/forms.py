import datetime as dt
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


# The history's filter: what members call the kinds of entries.
HISTORY_KINDS = {
    "earned": (_("Earned"), ["earn", "pending", "release"]),
    "spent": (_("Spent"), ["redeem", "cancel"]),
    "expired": (_("Expired"), ["expire"]),
    "taken_back": (_("Taken back (refunds)"), ["reverse"]),
    "adjusted": (_("Adjusted"), ["adjust"]),
}


class HistoryFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[
            ("", _("Everything")),
            *((k, label) for k, (label, _kinds) in HISTORY_KINDS.items()),
        ],
    )
    month = forms.CharField(
        label=_("Month"),
        required=False,
        widget=forms.DateInput(attrs={"type": "month", "placeholder": "YYYY-MM"}),
        help_text=_("For example 2026-11."),
    )

    def clean_month(self) -> dt.date | None:
        text: str = self.cleaned_data["month"].strip()
        if not text:
            return None
        try:
            return dt.date.fromisoformat(f"{text}-01")
        except ValueError:
            raise ValidationError(_("Give a month as YYYY-MM.")) from None

    def kinds(self) -> list[str] | None:
        kind = self.cleaned_data.get("kind") if self.is_valid() else None
        return HISTORY_KINDS[kind][1] if kind else None

    def month_start(self) -> dt.date | None:
        return self.cleaned_data.get("month") if self.is_valid() else None
