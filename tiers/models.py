"""Tiers and paid plans.

- `Tier` is data: a rank, the qualifying spend (and optionally orders) over the
  programme's window, an earn multiplier and benefits.
- `MemberTier` is a member's tier state: the tier, since when, a grace period
  before a downgrade, a staff override (a floor until it expires) and what the
  last nightly evaluation found (spend, orders, the tier that spend qualifies for).
- `TierChange` is the history: one row per change of tier, with its reason.
- `PaidPlan` is a plan bought through the shop (like Prime or PLUS);
  `Subscription` is a member's plan and `PlanPurchase` each order that bought or
  extended it, so a refund takes back exactly that purchase's time.
- What members are told (upgrade, grace, downgrade, nudge, plan reminder, plan
  ended) goes through the outbox (`notifications`; `tiers.messages`).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from members.models import Member
from shop.models import Order


class Benefits(models.Model):
    """The benefits a tier or a paid plan grants."""

    discount_percent = models.PositiveSmallIntegerField(_("discount percent"), default=0)
    free_shipping = models.BooleanField(_("free shipping"), default=False)
    priority_support = models.BooleanField(_("priority support"), default=False)
    birthday_gift = models.BooleanField(_("birthday gift"), default=False)
    early_access = models.BooleanField(_("early access"), default=False)

    class Meta:
        abstract = True

    def benefits(self) -> dict[str, int | bool]:
        return {
            "discount_percent": self.discount_percent,
            "free_shipping": self.free_shipping,
            "priority_support": self.priority_support,
            "birthday_gift": self.birthday_gift,
            "early_access": self.early_access,
        }


class Tier(Benefits):
    code = models.SlugField(max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_zh_hans = models.CharField(_("name (Simplified Chinese)"), max_length=100, blank=True)
    name_zh_hant = models.CharField(_("name (Traditional Chinese)"), max_length=100, blank=True)
    description = models.TextField(
        _("description"), blank=True, help_text=_("What members read about the tier.")
    )
    description_zh_hans = models.TextField(_("description (Simplified Chinese)"), blank=True)
    description_zh_hant = models.TextField(_("description (Traditional Chinese)"), blank=True)
    rank = models.PositiveSmallIntegerField(
        unique=True, help_text=_("Higher is better; the lowest rank is where every member starts.")
    )
    threshold_minor = models.BigIntegerField(
        _("qualifying spend (minor units)"),
        default=0,
        help_text=_("Net spend over the qualifying window, in minor units of the currency."),
    )
    min_orders = models.PositiveIntegerField(
        _("minimum orders"), default=0, help_text=_("Orders needed in the window (0: none).")
    )
    multiplier = models.DecimalField(_("earn multiplier"), max_digits=4, decimal_places=2)

    class Meta:
        ordering = ["rank"]
        constraints = [
            models.CheckConstraint(
                condition=Q(threshold_minor__gte=0), name="tier_threshold_not_negative"
            ),
            models.CheckConstraint(condition=Q(multiplier__gt=0), name="tier_multiplier_positive"),
            models.CheckConstraint(
                condition=Q(discount_percent__lte=100), name="tier_discount_at_most_100"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class MemberTier(models.Model):
    member = models.OneToOneField(
        Member, primary_key=True, on_delete=models.PROTECT, related_name="tier_state"
    )
    tier = models.ForeignKey(Tier, on_delete=models.PROTECT, related_name="+")
    since = models.DateTimeField()
    grace_until = models.DateField(
        null=True, blank=True, help_text=_("Below the tier's threshold: the last day to requalify.")
    )
    override_tier = models.ForeignKey(
        Tier, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    override_until = models.DateField(null=True, blank=True)
    override_reason = models.CharField(max_length=200, blank=True)
    # Not indexed: rewritten every night, and an index would cost PostgreSQL its
    # heap-only (HOT) updates of the row.
    qualified_tier = models.ForeignKey(
        Tier, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    spend_minor = models.BigIntegerField(default=0)
    orders_count = models.PositiveIntegerField(default=0)
    nudged_on = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name = _("member tier")
        permissions = [("override_tier", _("Can override a member's tier"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(override_tier__isnull=True) | Q(override_until__isnull=False),
                name="membertier_override_has_expiry",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.tier_id}"


class TierChange(models.Model):
    class Reason(models.TextChoices):
        UPGRADE = "upgrade", _("Upgrade")
        DOWNGRADE = "downgrade", _("Downgrade")
        OVERRIDE = "override", _("Staff override")
        PLAN_STARTED = "plan_started", _("Paid plan started")
        PLAN_EXTENDED = "plan_extended", _("Paid plan extended")
        PLAN_ENDED = "plan_ended", _("Paid plan ended")

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="tier_changes")
    from_tier = models.ForeignKey(
        Tier, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_tier = models.ForeignKey(Tier, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    as_of = models.DateField()
    plan = models.ForeignKey(
        "PaidPlan", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["member", "-id"], name="tierchange_member")]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.reason} {self.as_of}"


class PaidPlan(Benefits):
    code = models.SlugField(max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_zh_hans = models.CharField(_("name (Simplified Chinese)"), max_length=100, blank=True)
    name_zh_hant = models.CharField(_("name (Traditional Chinese)"), max_length=100, blank=True)
    description = models.TextField(
        _("description"), blank=True, help_text=_("What members read about the plan.")
    )
    description_zh_hans = models.TextField(_("description (Simplified Chinese)"), blank=True)
    description_zh_hant = models.TextField(_("description (Traditional Chinese)"), blank=True)
    sku = models.CharField(
        _("SKU"), max_length=100, unique=True, help_text=_("An order line with this SKU buys it.")
    )
    price_minor = models.BigIntegerField(_("price (minor units)"))
    duration_days = models.PositiveIntegerField(_("duration (days)"), default=365)
    extra_multiplier = models.DecimalField(
        _("extra earn multiplier"),
        max_digits=4,
        decimal_places=2,
        default=0,
        help_text=_("Added to the tier's multiplier while the plan runs."),
    )
    is_active = models.BooleanField(_("on sale"), default=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(price_minor__gte=0), name="plan_price_not_negative"),
            models.CheckConstraint(condition=Q(duration_days__gt=0), name="plan_duration_positive"),
            models.CheckConstraint(
                condition=Q(extra_multiplier__gte=0), name="plan_extra_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(discount_percent__lte=100), name="plan_discount_at_most_100"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Subscription(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        ENDED = "ended", _("Ended")
        CANCELLED = "cancelled", _("Cancelled (refunded)")

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="subscriptions")
    plan = models.ForeignKey(PaidPlan, on_delete=models.PROTECT, related_name="subscriptions")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    reminded_for = models.DateTimeField(
        null=True, blank=True, help_text=_("The end the member was reminded of.")
    )
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["member"],
                condition=Q(status="active"),
                name="subscription_one_active_per_member",
            ),
        ]
        indexes = [models.Index(fields=["status", "ends_at"], name="subscription_due")]

    def __str__(self) -> str:
        return f"{self.plan_id} for {self.member_id}"


class PlanPurchase(models.Model):
    """An order line that bought or extended a subscription by the plan's duration."""

    subscription = models.ForeignKey(
        Subscription, on_delete=models.PROTECT, related_name="purchases"
    )
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="+")
    days = models.PositiveIntegerField()
    refunded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "order"], name="planpurchase_once_per_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.days} days"
