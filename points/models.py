"""The points ledger.

- `Account` is the member's balance row: changed only in the transaction that
  writes the entry explaining the change, with the row locked.
- `Entry` is the append-only ledger. `amount` changes available points, `pending_change`
  changes pending points; both are signed. Entries are never updated or deleted.
- `Lot` is a parcel of earned points with its own expiry. A pending lot becomes
  available on its `available_from`; available lots are spent and expired
  earliest-expiry first.
- `LotUse` records which lots a redemption took from, so a cancellation can give
  the points back where they came from.

Invariants (proved by `manage.py ledger_audit`): available = sum(amount),
pending = sum(pending_change), pending = sum(remaining of pending lots),
max(available, 0) = sum(remaining of available lots); a negative available is
a debt and then no lot has points left.
"""

import uuid

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from members.models import Member


class Account(models.Model):
    member = models.OneToOneField(
        Member, primary_key=True, on_delete=models.PROTECT, related_name="points_account"
    )
    available = models.BigIntegerField(default=0, help_text=_("negative while in debt"))
    pending = models.BigIntegerField(default=0)
    lifetime_earned = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(pending__gte=0), name="account_pending_gte_0"),
            models.CheckConstraint(
                condition=Q(lifetime_earned__gte=0), name="account_lifetime_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.available}"

    @property
    def debt(self) -> int:
        return max(0, -self.available)


class Entry(models.Model):
    class Kind(models.TextChoices):
        EARN = "earn", _("Earned")
        PENDING = "pending", _("Pending")
        RELEASE = "release", _("Released")
        REDEEM = "redeem", _("Redeemed")
        REVERSE = "reverse", _("Reversed")
        EXPIRE = "expire", _("Expired")
        ADJUST = "adjust", _("Adjusted")
        CANCEL = "cancel", _("Redemption cancelled")

    class Source(models.TextChoices):
        ORDER = "order", _("Order")
        REFUND = "refund", _("Refund")
        EVENT = "event", _("Event")
        REWARD = "reward", _("Reward")
        CAMPAIGN = "campaign", _("Campaign")
        STAFF = "staff", _("Staff")
        SYSTEM = "system", _("System")

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="ledger")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    amount = models.BigIntegerField(help_text=_("change of available points"))
    pending_change = models.BigIntegerField(default=0, help_text=_("change of pending points"))
    balance_after = models.BigIntegerField(help_text=_("available points after this entry"))
    pending_after = models.BigIntegerField()
    source_type = models.CharField(max_length=10, choices=Source.choices)
    source_ref = models.CharField(
        max_length=150, blank=True, help_text=_("the source's id; a shop's ids with its code")
    )
    idempotency_key = models.CharField(max_length=150)
    fingerprint = models.CharField(max_length=64, help_text=_("hash of the operation's arguments"))
    actor = models.ForeignKey(
        "members.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=255, blank=True)
    reverses = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversals"
    )
    effective_at = models.DateTimeField()
    created_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "entries"
        permissions = [
            ("adjust_points", "Can adjust a member's points"),
            ("adjust_points_large", "Can make adjustments above the large-adjustment limit"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "idempotency_key"], name="entry_unique_key_per_member"
            ),
        ]
        indexes = [
            models.Index(fields=["member", "-id"], name="entry_member_history"),
            models.Index(fields=["source_type", "source_ref"], name="entry_source"),
            models.Index(fields=["created_at"], name="entry_created"),
            # The admin's list filtered by kind, newest first: the rare kinds
            # (adjustments, cancellations) without a scan of the whole ledger.
            models.Index(fields=["kind", "-id"], name="entry_kind_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount:+d}"


class Lot(models.Model):
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="lots")
    entry = models.ForeignKey(Entry, on_delete=models.PROTECT, related_name="lots")
    original = models.BigIntegerField()
    remaining = models.BigIntegerField()
    pending = models.BooleanField(default=False)
    available_from = models.DateTimeField()
    expires_at = models.DateTimeField()
    released_by = models.ForeignKey(
        Entry, null=True, blank=True, on_delete=models.PROTECT, related_name="released_lots"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(original__gt=0), name="lot_original_gt_0"),
            models.CheckConstraint(
                condition=Q(remaining__gte=0, remaining__lte=F("original")),
                name="lot_remaining_within_original",
            ),
        ]
        indexes = [
            models.Index(
                fields=["member", "expires_at"],
                condition=Q(remaining__gt=0, pending=False),
                name="lot_spendable",
            ),
            models.Index(
                fields=["expires_at"],
                condition=Q(remaining__gt=0, pending=False),
                name="lot_due_expiry",
            ),
            models.Index(
                fields=["available_from"],
                condition=Q(pending=True),
                name="lot_due_release",
            ),
        ]

    def __str__(self) -> str:
        return f"lot {self.pk}: {self.remaining}/{self.original}"


class LotUse(models.Model):
    """Points a redemption or reversal took from a lot."""

    entry = models.ForeignKey(Entry, on_delete=models.PROTECT, related_name="lot_uses")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="uses")
    points = models.BigIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(points__gt=0), name="lotuse_points_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.points} from lot {self.lot_id}"


class ExpiryWarning(models.Model):
    """A member was told that points expire on a day: once per member and day."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    expires_on = models.DateField()
    points = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["member", "expires_on"], name="expirywarning_once_per_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.points} on {self.expires_on}"


class Redemption(models.Model):
    """Points spent at the shop's checkout as a discount."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        CANCELLED = "cancelled", _("Cancelled")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # No index of its own: the unique (shop, member, idempotency_key) starts with it.
    shop = models.ForeignKey(
        "shop.Shop", on_delete=models.PROTECT, db_index=False, related_name="+"
    )
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="redemptions")
    idempotency_key = models.CharField(max_length=150)
    fingerprint = models.CharField(max_length=64)
    points = models.BigIntegerField()
    discount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    order_ref = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    entry = models.OneToOneField(Entry, on_delete=models.PROTECT, related_name="+")
    cancel_entry = models.OneToOneField(
        Entry, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    api_key = models.ForeignKey(
        "shop.ApiKey", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "member", "idempotency_key"],
                name="redemption_unique_key_per_shop_member",
            ),
            models.CheckConstraint(condition=Q(points__gt=0), name="redemption_points_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.points} points ({self.status})"
