from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.models import Member, Sanction


class KpiSnapshot(models.Model):
    """One figure of one night (`kpi_snapshot`, staff.kpis): a metric for one
    dimension (a tier, a lifecycle stage, a plan, a campaign; empty for none),
    summed over every member. Ratios are kept as their two sums (orders and
    their value, buyers and repeat buyers), so a month or a range adds up its
    days exactly. The dashboard reads these rows, never the ledger."""

    day = models.DateField()
    metric = models.CharField(max_length=40)
    dimension = models.CharField(max_length=80, blank=True)
    value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("KPI snapshot")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "metric", "dimension"], name="kpi_one_per_day_and_dimension"
            )
        ]
        indexes = [models.Index(fields=["metric", "day"], name="kpi_metric_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.metric}[{self.dimension}] = {self.value}"


class FraudFlag(models.Model):
    """A member a fraud rule flagged (staff.fraud), with the evidence, waiting on
    the review queue until staff clear it with a note or sanction the member.
    Once per member, rule and period (the day, hour, month or phone number the
    rule counted over)."""

    class Rule(models.TextChoices):
        POINTS_PER_DAY = "points_per_day", _("Points earned in a day")
        REDEMPTIONS_PER_HOUR = "redemptions_per_hour", _("Redemptions in an hour")
        REFERRALS_PER_MONTH = "referrals_per_month", _("Referrals in a month")
        REFUNDED_SHARE = "refunded_share", _("Share of orders refunded in full")
        SHARED_PHONE = "shared_phone", _("Members sharing one phone")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLEARED = "cleared", _("Cleared")
        SANCTIONED = "sanctioned", _("Sanctioned")

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="fraud_flags")
    rule = models.CharField(max_length=30, choices=Rule.choices)
    period = models.CharField(max_length=40)
    evidence = models.JSONField(default=dict)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True)
    sanction = models.ForeignKey(
        Sanction, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("fraud flag")
        constraints = [
            models.UniqueConstraint(
                fields=["member", "rule", "period"], name="fraud_flag_once_per_period"
            ),
            models.CheckConstraint(
                condition=Q(status="open") | ~Q(note=""), name="fraud_flag_resolved_with_note"
            ),
        ]
        indexes = [
            models.Index(
                fields=["-created_at"], condition=Q(status="open"), name="fraud_flag_queue"
            ),
            models.Index(fields=["member", "-created_at"], name="fraud_flag_member"),
        ]

    def __str__(self) -> str:
        return f"{self.get_rule_display()}: {self.member}"
