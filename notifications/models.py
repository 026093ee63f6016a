from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.models import Member


class Message(models.Model):
    """One message to a member in the outbox: queued in the transaction that
    caused it, sent after it commits by the outbox sender, retried with backoff.
    A `key` makes it once per member (a tier notice per day, a warning per
    expiry): a second message with the same member and key is not queued."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        INBOX = "inbox", _("Inbox")
        SMS = "sms", _("SMS")
        PUSH = "push", _("Web Push")

    class Kind(models.TextChoices):
        TRANSACTIONAL = "transactional", _("Transactional")
        MARKETING = "marketing", _("Marketing")

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SUPPRESSED = "suppressed", _("Suppressed")

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="messages")
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    kind = models.CharField(max_length=15, choices=Kind.choices, default=Kind.TRANSACTIONAL)
    template = models.CharField(max_length=100)
    context = models.JSONField(default=dict, blank=True)
    language = models.CharField(max_length=10, blank=True)
    key = models.CharField(max_length=150, blank=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.QUEUED)
    reason = models.CharField(
        max_length=300, blank=True, help_text=_("Why it was suppressed or failed; the last error.")
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claim = models.CharField(max_length=32, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["member", "key"], condition=~Q(key=""), name="message_once_per_key"
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], condition=Q(state="queued"), name="message_due"
            ),
            models.Index(
                fields=["member", "channel", "sent_at"],
                condition=Q(kind="marketing"),
                name="message_marketing",
            ),
            models.Index(
                fields=["member", "-created_at"], condition=Q(channel="inbox"), name="message_inbox"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template} to {self.member_id} ({self.state})"


class Unsubscription(models.Model):
    """A member withdrew a channel's marketing consent from a message's
    unsubscribe link (one click, no login): who, which channel, when."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=10, choices=Message.Channel.choices)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.member_id} {self.channel} {self.created_at:%Y-%m-%d}"


class Suppression(models.Model):
    """An e-mail address nothing is sent to: it bounced, its owner complained
    (marked the mail as spam), or staff put it here."""

    class Reason(models.TextChoices):
        BOUNCED = "bounced", _("Bounced")
        COMPLAINED = "complained", _("Complained")
        MANUAL = "manual", _("Added by staff")

    email = models.EmailField(unique=True, help_text=_("Matched in any case."))
    reason = models.CharField(max_length=12, choices=Reason.choices)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("suppressed address")
        verbose_name_plural = _("suppression list")

    def __str__(self) -> str:
        return f"{self.email} ({self.reason})"


class WebhookEndpoint(models.Model):
    """A URL of the shop's (or anyone's) that hears about events, signed with its
    secret (Standard Webhooks)."""

    url = models.URLField(max_length=500)
    events = models.JSONField(default=list, help_text=_("The event types it hears about."))
    secret = models.CharField(max_length=100, editable=False)
    active = models.BooleanField(default=True)
    description = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("webhook endpoint")

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event for one endpoint: queued in the transaction that caused it,
    delivered after it commits, retried with backoff on 5xx, 429 and time-outs
    for WEBHOOK_RETRY_HOURS; the log of its last answer."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="+")
    event_id = models.CharField(max_length=40, editable=False)
    event = models.CharField(max_length=50)
    payload = models.JSONField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claim = models.CharField(max_length=32, blank=True, editable=False)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            models.Index(
                fields=["next_attempt_at"], condition=Q(state="queued"), name="webhook_due"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.endpoint_id} ({self.state})"


class PushSubscription(models.Model):
    """A browser in which a member turned on notifications (the Push API's
    subscription): where its push service takes messages for it, and the keys
    the messages are encrypted with. Forgotten when the push service says it is
    gone (404 or 410) or the member turns it off."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="push_subscriptions")
    endpoint = models.URLField(max_length=1000, unique=True)
    p256dh = models.CharField(max_length=200)
    auth = models.CharField(max_length=100)
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("push subscription")

    def __str__(self) -> str:
        return f"{self.member_id}: {self.endpoint[:60]}"
