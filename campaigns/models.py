from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from members.models import Member
from shop.models import ApiKey, Order


class OrderPoints(models.Model):
    """What an order earned when it was reported, and by which rules: the answer
    a retry of the same order gets, and the basis its refunds reverse."""

    order = models.OneToOneField(
        Order, primary_key=True, on_delete=models.PROTECT, related_name="earning"
    )
    points = models.BigIntegerField()
    pending_until = models.DateTimeField(null=True, blank=True)
    rules = models.JSONField(default=list)

    class Meta:
        verbose_name_plural = "order points"
        constraints = [
            models.CheckConstraint(condition=Q(points__gte=0), name="orderpoints_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.points}"


class Event(models.Model):
    """An action the shop reported (a review, a share) and what it earned."""

    event_id = models.CharField(_("shop's event id"), max_length=100, unique=True)
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    type = models.CharField(max_length=30)
    occurred_at = models.DateTimeField()
    points = models.BigIntegerField()
    reason = models.CharField(max_length=100, blank=True)
    fingerprint = models.CharField(max_length=64)
    api_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["member", "type", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"
