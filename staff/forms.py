import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from members.models import Sanction

from .services import CLEAR


class DateRangeForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            raise forms.ValidationError(_("The start must not be after the end."))
        return cleaned

    def range_or(self, default: tuple[dt.date, dt.date]) -> tuple[dt.date, dt.date]:
        if self.is_bound and self.is_valid():
            return self.cleaned_data["start"], self.cleaned_data["end"]
        return default


class FraudDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            (CLEAR, _("Clear the flag (no sanction)")),
            (Sanction.Kind.WARN, Sanction.Kind.WARN.label),
            (Sanction.Kind.RESTRICT, Sanction.Kind.RESTRICT.label),
            (Sanction.Kind.FREEZE, Sanction.Kind.FREEZE.label),
        ],
    )
    note = forms.CharField(
        label=_("Note"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Why. For a sanction, its reason, kept with it; the member is told of the "
            "sanction, not of the reason."
        ),
    )
