"""The admin's campaign form: the document as JSON, validated as an import is,
and a sample order whose earnings the "Preview" button shows without saving."""

import datetime as dt
import json
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from batch.services import program_zone
from members.models import Member
from shop.money import MoneyError, parse_amount
from tiers.selectors import tiers_by_rank

from .catalogue import campaign_check
from .documents import Document, DocumentErrors
from .models import Broadcast, Campaign, MemberSegment
from .rules import LineFacts, MemberFacts, OrderFacts
from .selectors import Preview, member_facts, order_preview

PREVIEW = "_preview"


def _lines(text: str) -> tuple[LineFacts, ...]:
    lines = []
    for number, row in enumerate(text.strip().splitlines(), start=1):
        parts = [part.strip() for part in row.split(",")]
        if len(parts) != 3:
            raise ValidationError(_("Line %(n)s: write sku, category, amount.") % {"n": number})
        try:
            amount = parse_amount(parts[2], settings.PROGRAM_CURRENCY)
        except MoneyError as error:
            raise ValidationError(f"{number}: {error}") from None
        lines.append(LineFacts(sku=parts[0], category=parts[1], amount_minor=amount))
    return tuple(lines)


class CampaignForm(forms.ModelForm):
    document_json = forms.CharField(
        label=_("Document"),
        widget=forms.Textarea(attrs={"rows": 30, "cols": 100, "class": "vLargeTextField"}),
        help_text=_("The campaign as JSON, as campaigns_import reads it (see the README)."),
    )
    sample_placed_at = forms.CharField(
        label=_("Sample order: placed at"),
        required=False,
        help_text=_("YYYY-MM-DD HH:MM in the programme's time zone; empty: now."),
    )
    sample_total = forms.CharField(label=_("Sample order: net total"), required=False)
    sample_lines = forms.CharField(
        label=_("Sample order: lines"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One line a row: sku, category, amount."),
    )
    sample_first_order = forms.BooleanField(label=_("Sample order: first order"), required=False)
    sample_member = forms.CharField(
        label=_("Sample order: member number"),
        required=False,
        help_text=_("Empty: a member of the lowest tier."),
    )

    class Meta:
        model = Campaign
        fields: list[str] = []

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.preview: Preview | None = None
        if self.instance.pk:
            self.fields["document_json"].initial = json.dumps(
                self.instance.document, indent=2, ensure_ascii=False
            )

    def clean_document_json(self) -> Document:
        text: str = self.cleaned_data["document_json"]
        try:
            data = json.loads(text)
        except ValueError as error:
            raise ValidationError(_("Not JSON: %(error)s") % {"error": error}) from None
        try:
            return campaign_check(data=data, instance=self.instance if self.instance.pk else None)
        except DocumentErrors as error:
            messages = [f"{path}: {message}" for path, message in error.errors]
            raise ValidationError(messages) from None

    def _sample_order(self) -> OrderFacts:
        text = self.cleaned_data.get("sample_placed_at", "").strip()
        try:
            placed_at = dt.datetime.fromisoformat(text) if text else dt.datetime.now(dt.UTC)
        except ValueError:
            raise ValidationError({"sample_placed_at": _("Not a date and time.")}) from None
        if placed_at.tzinfo is None:
            placed_at = placed_at.replace(tzinfo=program_zone())
        try:
            lines = _lines(self.cleaned_data.get("sample_lines", ""))
        except ValidationError as error:
            raise ValidationError({"sample_lines": error.messages}) from None
        total = self.cleaned_data.get("sample_total", "").strip()
        try:
            net = parse_amount(total, settings.PROGRAM_CURRENCY) if total else None
        except MoneyError as error:
            raise ValidationError({"sample_total": str(error)}) from None
        return OrderFacts(
            placed_at=placed_at,
            net_minor=net if net is not None else sum(line.amount_minor for line in lines),
            lines=lines,
            first_order=self.cleaned_data.get("sample_first_order", False),
        )

    def _sample_member(self) -> MemberFacts:
        number = self.cleaned_data.get("sample_member", "").strip()
        if not number:
            return MemberFacts(number="M00000000", tier=tiers_by_rank()[0].code)
        member = Member.objects.filter(number=number).first()
        if member is None:
            raise ValidationError({"sample_member": _("No member has this number.")})
        return member_facts(member=member)

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        document = cleaned.get("document_json")
        if PREVIEW in self.data and document is not None:
            order, member = self._sample_order(), self._sample_member()
            self.preview = order_preview(document=document, order=order, member=member)
            # Previewing never saves: the form comes back with the preview.
            raise ValidationError(_("Preview only: nothing was saved."), code="preview")
        return cleaned


class BroadcastForm(forms.ModelForm):
    """A broadcast's audience and text; the tiers and stages are chosen from
    those that exist."""

    tiers = forms.MultipleChoiceField(
        label=_("Tiers"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every tier."),
    )
    segments = forms.MultipleChoiceField(
        label=_("Lifecycle stages"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=MemberSegment.Lifecycle.choices,
        help_text=_("None ticked: every stage (a member not yet segmented is in none)."),
    )

    class Meta:
        model = Broadcast
        fields = [
            "name",
            "kind",
            "channel",
            "tiers",
            "segments",
            "subject",
            "body",
            "subject_zh_hans",
            "body_zh_hans",
            "subject_zh_hant",
            "body_zh_hant",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tiers"].choices = [(tier.code, tier.name) for tier in tiers_by_rank()]
