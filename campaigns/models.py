from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.models import Member
from notifications.models import Message
from shop.models import ApiKey, Order, Shop


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

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, db_index=False, related_name="+")
    event_id = models.CharField(_("shop's event id"), max_length=100)
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
        indexes = [
            models.Index(fields=["member", "type", "created_at"], name="event_member_type_received")
        ]
        constraints = [
            models.UniqueConstraint(fields=["shop", "event_id"], name="event_unique_per_shop")
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class Campaign(models.Model):
    """A campaign: its document (campaigns.documents), as staff wrote it, and the
    columns queries need, copied from it on every save (campaigns.catalogue).
    `spent` counts the points it has given, raised by a conditional update in
    the transaction of the order that earns them, so `budget_points` holds under
    concurrency (and the database refuses to pass it)."""

    class Kind(models.TextChoices):
        MULTIPLIER = "multiplier", _("Multiplier")
        MEMBER_DAY = "member_day", _("Member day")
        ORDER_BONUS = "order_bonus", _("Order bonus")
        WELCOME = "welcome", _("Welcome (first order)")
        SIGNUP = "signup", _("Sign-up")
        REFERRAL = "referral", _("Referral")
        BIRTHDAY = "birthday", _("Birthday")
        CHALLENGE = "challenge", _("Challenge")
        WIN_BACK = "win_back", _("Win-back")

    code = models.CharField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    name_zh_hans = models.CharField(_("name (Simplified Chinese)"), max_length=200, blank=True)
    name_zh_hant = models.CharField(_("name (Traditional Chinese)"), max_length=200, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    active = models.BooleanField(default=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    priority = models.IntegerField(default=0)
    stackable = models.BooleanField(default=False)
    document = models.JSONField()
    budget_points = models.BigIntegerField(null=True, blank=True)
    spent = models.BigIntegerField(default=0, help_text=_("points given so far"))
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-priority", "code"]
        constraints = [
            models.CheckConstraint(condition=Q(spent__gte=0), name="campaign_spent_gte_0"),
            models.CheckConstraint(
                condition=Q(budget_points__isnull=True) | Q(spent__lte=F("budget_points")),
                name="campaign_within_budget",
            ),
        ]
        indexes = [models.Index(fields=["active", "kind"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def out_of_budget(self) -> bool:
        return self.budget_points is not None and self.spent >= self.budget_points


class MemberSegment(models.Model):
    """A member's lifecycle stage and RFM scores, as the nightly `segments` job
    found them on `computed_on` (campaigns.segments). The member is not a checked
    foreign key: the job inserts a row for every member on its first night, and
    a check per row would cost that night as much as the inserts (members are
    never deleted)."""

    class Lifecycle(models.TextChoices):
        NEW = "new", _("New member")
        ACTIVE = "active", _("Active buyer")
        AT_RISK = "at_risk", _("At risk")
        DORMANT = "dormant", _("Dormant")
        CHURNED = "churned", _("Churned")

    member = models.OneToOneField(
        Member,
        primary_key=True,
        on_delete=models.PROTECT,
        db_constraint=False,
        related_name="segment",
    )
    lifecycle = models.CharField(max_length=10, choices=Lifecycle.choices)
    recency = models.SmallIntegerField(null=True, blank=True, help_text=_("1-5, 5 most recent"))
    frequency = models.SmallIntegerField(null=True, blank=True, help_text=_("1-5"))
    monetary = models.SmallIntegerField(null=True, blank=True, help_text=_("1-5"))
    last_order_at = models.DateTimeField(null=True, blank=True)
    orders = models.IntegerField(default=0, help_text=_("orders in the last 365 days"))
    spend_minor = models.BigIntegerField(default=0, help_text=_("net spend in the last 365 days"))
    computed_on = models.DateField()

    class Meta:
        # Not indexed beyond the key: rewritten every night (see tiers' MemberTier).
        verbose_name = _("member segment")

    def __str__(self) -> str:
        return f"{self.member_id}: {self.lifecycle}"


class RfmBounds(models.Model):
    """The RFM quintiles' upper bounds of one night, over every member who
    ordered in the 365 days before it: the highest value of NTILE's tiles 1-4
    for recency (the last order's time, ISO), frequency and monetary. Computed
    once a night (by the first chunk of `segments`), so each chunk scores its
    members against the whole programme."""

    as_of = models.DateField(primary_key=True)
    recency = models.JSONField()
    frequency = models.JSONField()
    monetary = models.JSONField()
    members = models.IntegerField()

    class Meta:
        verbose_name_plural = "RFM bounds"

    def __str__(self) -> str:
        return f"RFM {self.as_of}"


class SegmentFacts(models.Model):
    """Each member's orders before one night, aggregated once that night by the
    `segments` job (campaigns.segments) for its chunks to read instead of the
    orders: the last order ever, and the last order, count and net spend in the
    RFM window. One night's at a time; an unlogged table on PostgreSQL (a crash
    empties it, and the next chunk builds it again)."""

    member_id = models.BigIntegerField(primary_key=True)
    as_of = models.DateField()
    last_ever = models.DateTimeField()
    last_at = models.DateTimeField(null=True)
    n = models.IntegerField()
    spend = models.BigIntegerField()

    class Meta:
        verbose_name_plural = "segment facts"

    def __str__(self) -> str:
        return f"{self.member_id} on {self.as_of}"


class CampaignMemberSpend(models.Model):
    """Points one member has had from a campaign with a per-member budget."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    points = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "member"], name="campaign_spend_once"),
            models.CheckConstraint(condition=Q(points__gte=0), name="campaign_spend_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.member_id}: {self.points}"


class CampaignGrant(models.Model):
    """Points a campaign gave a member outside an order (a birthday, a challenge
    met, a win-back offer, a referral), once per `period`: the year of a
    birthday, the start of a dormancy, `once`."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="grants")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    period = models.CharField(max_length=120)
    points = models.BigIntegerField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "member", "period"], name="campaign_grant_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.member_id} {self.period}"


class OrderCampaign(models.Model):
    """A campaign applied to an order: its points (a ledger entry of their own,
    which a refund takes back in proportion) and the member's A/B variant."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="campaigns")
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="orders")
    points = models.BigIntegerField()
    variant = models.CharField(max_length=20, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order", "campaign"], name="order_campaign_once"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}/{self.campaign_id}: {self.points}"


class Referral(models.Model):
    """A member who joined through another's referral code. Both are credited
    (by the `referrals` job) once the referee's first order's points are
    released; a self-referral, or a first order refunded in full, pays nothing."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the first order")
        CREDITED = "credited", _("Credited")
        REFUSED = "refused", _("Refused")

    referee = models.OneToOneField(
        Member, primary_key=True, on_delete=models.PROTECT, related_name="referred_by"
    )
    referrer = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="referrals")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(max_length=30, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    decided_on = models.DateField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "referee"], name="referral_pending")]

    def __str__(self) -> str:
        return f"{self.referrer_id} -> {self.referee_id}"


class Broadcast(models.Model):
    """A message staff send to a segment, tiers or every member, through the
    outbox (campaigns.broadcasts): written in the three languages, queued in
    chunks by a Celery task once sent, each member at most once."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")

    name = models.CharField(_("name"), max_length=100, help_text=_("For staff only."))
    kind = models.CharField(
        _("kind"),
        max_length=15,
        choices=Message.Kind.choices,
        default=Message.Kind.MARKETING,
        help_text=_(
            "Marketing needs the member's consent for the channel and counts towards "
            "the cap; transactional (news about their account) does not."
        ),
    )
    channel = models.CharField(
        _("channel"), max_length=10, choices=Message.Channel.choices, default=Message.Channel.EMAIL
    )
    tiers = models.JSONField(
        _("tiers"), default=list, blank=True, help_text=_("Empty: every tier.")
    )
    segments = models.JSONField(
        _("lifecycle stages"), default=list, blank=True, help_text=_("Empty: every stage.")
    )
    subject = models.CharField(_("subject"), max_length=150)
    body = models.TextField(_("message"))
    subject_zh_hans = models.CharField(
        _("subject (Simplified Chinese)"), max_length=150, blank=True
    )
    body_zh_hans = models.TextField(_("message (Simplified Chinese)"), blank=True)
    subject_zh_hant = models.CharField(
        _("subject (Traditional Chinese)"), max_length=150, blank=True
    )
    body_zh_hant = models.TextField(_("message (Traditional Chinese)"), blank=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.DRAFT, editable=False
    )
    recipients = models.PositiveIntegerField(_("messages queued"), default=0, editable=False)
    last_member_id = models.BigIntegerField(default=0, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("broadcast")

    def __str__(self) -> str:
        return self.name

    def text_in(self, language: str) -> tuple[str, str]:
        """(subject, message) in `language`, else in English."""
        translated = {
            "zh-hans": (self.subject_zh_hans, self.body_zh_hans),
            "zh-hant": (self.subject_zh_hant, self.body_zh_hant),
        }.get(language.lower())
        if translated and translated[0] and translated[1]:
            return translated
        return self.subject, self.body
