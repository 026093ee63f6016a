"""Behaviour, tags, recommendations and price protection.

- `BehaviourEvent`: what a member did on the shop's site (view, click, add to
  cart, search), kept narrow for volume: no foreign-key checks, a BRIN index on
  `occurred_at` on PostgreSQL (rows arrive in time order), purged after
  BEHAVIOUR_RETENTION_DAYS. It earns nothing.
- `TagDefinition` and `MemberTag`: a member's profile tags, from the nightly
  rules (`source` rule) or given by staff (`source` staff).
- `RecommendationBuild`, `Interaction`, `ItemNeighbour`, `MemberRecommendation`:
  the nightly `recommendations` job's models, so that the API answers from rows.
- `RecommendationImpression` and `RecommendationStat`: what the API showed, and
  each variant's click-through by day.
- `PriceProtection`: a coupon for a price drop, once per order line.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.models import Member
from rewards.models import Coupon
from shop.models import OrderLine, Product, Shop


class BehaviourType(models.IntegerChoices):
    VIEW = 1, _("view")
    CLICK = 2, _("click")
    ADD_TO_CART = 3, _("add to cart")
    SEARCH = 4, _("search")


class BehaviourEvent(models.Model):
    """One event the shop reported. `(shop, event_id)` is unique: a batch sent
    again stores nothing twice. The member is not a checked foreign key (a check
    per row would halve the rate of ingestion; members are never deleted)."""

    shop = models.ForeignKey(
        Shop, on_delete=models.DO_NOTHING, db_index=False, db_constraint=False, related_name="+"
    )
    event_id = models.CharField(max_length=100)
    member = models.ForeignKey(
        Member, on_delete=models.DO_NOTHING, db_index=False, db_constraint=False, related_name="+"
    )
    type = models.PositiveSmallIntegerField(choices=BehaviourType.choices)
    sku = models.CharField(max_length=100, blank=True)
    query = models.CharField(max_length=200, blank=True)
    occurred_at = models.DateTimeField()

    class Meta:
        verbose_name = _("behaviour event")
        constraints = [
            models.UniqueConstraint(fields=["shop", "event_id"], name="behaviour_event_unique")
        ]
        # The index on occurred_at (BRIN on PostgreSQL) is made by migration 0002.

    def __str__(self) -> str:
        return self.event_id


class TagDefinition(models.Model):
    """A tag staff define and give to members by hand (the nightly rules' tags
    need no definition)."""

    code = models.SlugField(
        _("code"), max_length=50, unique=True, help_text=_("e.g. vip-event-2026; lower case.")
    )
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("staff tag")

    def __str__(self) -> str:
        return self.code


class MemberTag(models.Model):
    class Source(models.TextChoices):
        RULE = "rule", _("Nightly rule")
        STAFF = "staff", _("Staff")

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="tags")
    tag = models.CharField(_("tag"), max_length=120)
    source = models.CharField(_("source"), max_length=5, choices=Source.choices)
    computed_on = models.DateField(null=True, blank=True, editable=False)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("member tag")
        constraints = [
            models.UniqueConstraint(fields=["member", "tag"], name="member_tag_unique"),
        ]
        indexes = [models.Index(fields=["tag"], name="member_tag_tag")]

    def __str__(self) -> str:
        return self.tag


class Algorithm(models.TextChoices):
    COOCCURRENCE = "cooccurrence", _("Bought together (co-occurrence)")
    ALS = "als", _("Similar members (ALS)")
    CONTENT = "content", _("Same category and tags")
    POPULARITY = "popularity", _("Popular")


class Model(models.TextChoices):
    """Which models rows belong to: the night's (what the API reads), or the
    evaluation's, trained without each member's last order."""

    NIGHT = "night", _("Nightly")
    HOLDOUT = "holdout", _("Evaluation (last order held out)")


class RecommendationBuild(models.Model):
    """One night's models: built by the first chunk of the `recommendations` job
    (the others wait for it on this row's unique day), with the ALS item factors
    the chunks fold members into."""

    as_of = models.DateField(unique=True)
    built_at = models.DateTimeField(default=timezone.now)
    seconds = models.FloatField(default=0)
    counts = models.JSONField(default=dict)
    factors = models.PositiveSmallIntegerField(default=0)
    item_ids = models.JSONField(default=list)
    item_factors = models.BinaryField(default=b"")

    def __str__(self) -> str:
        return str(self.as_of)


class Interaction(models.Model):
    """How strongly a member showed interest in a product over the window:
    purchases and behaviour, weighted, summed. Rebuilt by each build; the ALS
    model and the member scores read it by member range."""

    model = models.CharField(max_length=8, choices=Model.choices)
    member = models.ForeignKey(
        Member, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    product = models.ForeignKey(
        Product, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    weight = models.FloatField()

    class Meta:
        indexes = [models.Index(fields=["model", "member"], name="interaction_member")]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.product_id} {self.weight}"


class ItemNeighbour(models.Model):
    """The top products for `product` by `algorithm`, best first; for popularity
    `product` is empty and the rows are the most popular products."""

    model = models.CharField(max_length=8, choices=Model.choices)
    algorithm = models.CharField(max_length=12, choices=Algorithm.choices)
    product = models.ForeignKey(
        Product, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    rank = models.PositiveSmallIntegerField()
    neighbour = models.ForeignKey(
        Product, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    score = models.FloatField()

    class Meta:
        indexes = [
            models.Index(fields=["model", "algorithm", "product", "rank"], name="item_neighbour")
        ]

    def __str__(self) -> str:
        return f"{self.algorithm} {self.product_id} #{self.rank}: {self.neighbour_id}"


class MemberRecommendation(models.Model):
    """The member's top products by `algorithm` as of the last night, best first."""

    member = models.ForeignKey(
        Member, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    algorithm = models.CharField(max_length=12, choices=Algorithm.choices)
    rank = models.PositiveSmallIntegerField()
    product = models.ForeignKey(
        Product, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    score = models.FloatField()

    class Meta:
        indexes = [
            models.Index(fields=["member", "algorithm", "rank"], name="member_recommendation")
        ]

    def __str__(self) -> str:
        return f"{self.algorithm} {self.member_id} #{self.rank}: {self.product_id}"


class RecommendationImpression(models.Model):
    """An item the API showed a member, with the variant that chose it. Narrow and
    unchecked like behaviour, purged with it."""

    served_at = models.DateTimeField()
    member = models.ForeignKey(
        Member, on_delete=models.DO_NOTHING, db_index=False, db_constraint=False, related_name="+"
    )
    variant = models.CharField(max_length=12)
    scene = models.CharField(max_length=16)
    product = models.ForeignKey(
        Product, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["served_at"], name="impression_served")]

    def __str__(self) -> str:
        return f"{self.variant} {self.member_id}: {self.product_id}"


class RecommendationStat(models.Model):
    """A variant's figures for one programme day: items shown, and how many of
    them the member clicked or put in the cart within a day."""

    day = models.DateField()
    variant = models.CharField(max_length=12)
    impressions = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "variant"], name="recommendation_stat_unique")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.variant}"


class PriceProtection(models.Model):
    """A coupon given for a price drop after an order: at most one per order line."""

    line = models.OneToOneField(OrderLine, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    sku = models.CharField(max_length=100)
    paid_unit_minor = models.BigIntegerField(_("paid per unit (minor units)"))
    price_minor = models.BigIntegerField(_("new price (minor units)"))
    amount_minor = models.BigIntegerField(_("coupon amount (minor units)"))
    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("price protection")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_minor__gt=0), name="price_protection_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.amount_minor}"


class TagNight(models.Model):
    """A night of the `tags` job whose behaviour has been counted."""

    as_of = models.DateField(unique=True)
    members = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return str(self.as_of)


class BehaviourHours(models.Model):
    """A member's behaviour events over the tags' window and how many at night,
    as of the last `tags` night."""

    member = models.OneToOneField(
        Member, on_delete=models.DO_NOTHING, db_constraint=False, primary_key=True, related_name="+"
    )
    events = models.PositiveIntegerField()
    night_events = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.member_id}: {self.night_events}/{self.events}"


class BehaviourHour(models.Model):
    """A member's behaviour events over the tags' window by hour of the
    programme's day, as of the last `tags` night: what the outbox's send time
    counts beside the member's order hours."""

    member = models.ForeignKey(
        Member, on_delete=models.DO_NOTHING, db_index=False, db_constraint=False, related_name="+"
    )
    hour = models.PositiveSmallIntegerField()
    events = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "hour"], name="behaviour_hour_unique")
        ]

    def __str__(self) -> str:
        return f"{self.member_id} at {self.hour}: {self.events}"
