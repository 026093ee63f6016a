import datetime as dt

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from batch.services import program_today
from members.admin import ReadOnlyAdmin

from .models import (
    BehaviourEvent,
    MemberTag,
    PriceProtection,
    RecommendationBuild,
    RecommendationStat,
    TagDefinition,
)
from .selectors import recommendation_click_through
from .services import member_tag_add, member_tag_remove

SUMMARY_DAYS = 30


@admin.register(TagDefinition)
class TagDefinitionAdmin(admin.ModelAdmin):
    """Tags staff define, then give to members (Member tags > Add). Campaigns
    target them by code, like the rules' tags."""

    list_display = ["code", "name", "members", "created_at"]
    search_fields = ["code", "name"]
    ordering = ["code"]

    def get_readonly_fields(self, request: HttpRequest, obj: TagDefinition | None = None) -> list:
        return ["code"] if obj is not None else []  # members and campaigns name it

    @admin.display(description=_("members"))
    def members(self, obj: TagDefinition) -> int:
        return MemberTag.objects.filter(tag=obj.code, source=MemberTag.Source.STAFF).count()

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class MemberTagForm(ModelForm):
    tag = forms.ChoiceField(label=_("tag"), choices=())

    class Meta:
        model = MemberTag
        fields = ["member", "tag"]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        codes = TagDefinition.objects.order_by("code").values_list("code", "name")
        self.fields["tag"].choices = [(code, f"{code} ({name})") for code, name in codes]


@admin.register(MemberTag)
class MemberTagAdmin(admin.ModelAdmin):
    """Every member's tags: the nightly rules' (read-only: the rules decide them
    each night) and the staff's, which are added here and may be removed."""

    form = MemberTagForm
    list_display = ["member", "tag", "source", "computed_on", "added_by", "created_at"]
    list_filter = ["source"]
    list_select_related = ["member", "added_by"]
    search_fields = ["=member__number", "=tag"]
    raw_id_fields = ["member"]
    show_full_result_count = False
    ordering = ["-id"]

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: MemberTag | None = None) -> bool:
        return obj is None or obj.source == MemberTag.Source.STAFF

    def save_model(
        self, request: HttpRequest, obj: MemberTag, form: ModelForm, change: bool
    ) -> None:
        tag = member_tag_add(member=obj.member, code=obj.tag, actor=request.user)  # type: ignore[arg-type]
        obj.pk = tag.pk
        obj._state.adding = False

    def delete_model(self, request: HttpRequest, obj: MemberTag) -> None:
        member_tag_remove(member=obj.member, code=obj.tag)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[MemberTag]) -> None:
        for tag in queryset.filter(source=MemberTag.Source.STAFF).select_related("member"):
            member_tag_remove(member=tag.member, code=tag.tag)


@admin.register(BehaviourEvent)
class BehaviourEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "member_id", "type", "sku", "query", "occurred_at"]
    list_filter = ["type"]
    search_fields = ["=event_id", "=sku"]
    show_full_result_count = False
    ordering = ["-id"]


@admin.register(PriceProtection)
class PriceProtectionAdmin(ReadOnlyAdmin):
    list_display = ["member", "sku", "paid_unit_minor", "price_minor", "amount_minor", "coupon"]
    list_select_related = ["member", "coupon"]
    search_fields = ["=member__number", "=sku", "=coupon__code"]
    show_full_result_count = False
    ordering = ["-id"]


@admin.register(RecommendationStat)
class RecommendationStatAdmin(ReadOnlyAdmin):
    """The recommenders' A/B test: each variant's items shown and those clicked
    or put in the cart within a day, per programme day (the nightly job sums
    them)."""

    list_display = ["day", "variant", "impressions", "clicks", "click_through"]
    list_filter = ["variant"]
    date_hierarchy = "day"
    ordering = ["-day", "variant"]

    @admin.display(description=_("click-through"))
    def click_through(self, obj: RecommendationStat) -> str:
        return f"{obj.clicks / obj.impressions:.2%}" if obj.impressions else "-"

    def changelist_view(
        self, request: HttpRequest, extra_context: dict | None = None
    ) -> HttpResponse:
        since = program_today() - dt.timedelta(days=SUMMARY_DAYS)
        summary = recommendation_click_through(since=since)
        return super().changelist_view(
            request, {**(extra_context or {}), "summary": summary, "since": since}
        )


@admin.register(RecommendationBuild)
class RecommendationBuildAdmin(ReadOnlyAdmin):
    list_display = ["as_of", "built_at", "seconds", "counts"]
    fields = ["as_of", "built_at", "seconds", "factors", "counts"]
    ordering = ["-as_of"]
