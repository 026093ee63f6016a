from typing import ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str | None, password: str | None, **extra: object) -> "User":
        user = self.model(email=self.normalize_email(email) if email else None, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(
        self, email: str | None = None, password: str | None = None, **extra: object
    ) -> "User":
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> "User":
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A login. E-mail is the identifier; a customer enrolled by the shop without an
    e-mail has none until they sign up."""

    username = None  # type: ignore[assignment]
    email = models.EmailField(  # type: ignore[assignment]
        _("e-mail address"), unique=True, null=True, blank=True
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects = UserManager()  # type: ignore[assignment,misc]

    def __str__(self) -> str:
        return self.email or f"user {self.pk}"


class Member(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        RESTRICTED = "restricted", _("Restricted")
        FROZEN = "frozen", _("Frozen")
        CLOSED = "closed", _("Closed")

    # A member in one of these may not log in, and their open sessions end.
    LOGGED_OUT_STATUSES = (Status.FROZEN, Status.CLOSED)

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    number = models.CharField(_("member number"), max_length=9, unique=True, editable=False)
    external_id = models.CharField(
        _("shop's customer id"), max_length=100, unique=True, null=True, blank=True
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    phone = models.CharField(
        _("phone"),
        max_length=32,
        blank=True,
        db_index=True,
        help_text=_("In E.164: +8613800138000."),
    )
    phone_verified_at = models.DateTimeField(
        _("phone verified at"), null=True, blank=True, editable=False
    )
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    birthday_set_at = models.DateTimeField(null=True, blank=True, editable=False)
    joined_at = models.DateTimeField(default=timezone.now, editable=False)
    email_verified_at = models.DateTimeField(null=True, blank=True, editable=False)
    referral_code = models.CharField(max_length=12, unique=True, editable=False)
    language = models.CharField(
        _("preferred language"), max_length=10, choices=settings.LANGUAGES, blank=True
    )
    marketing_email_at = models.DateTimeField(
        _("e-mail marketing consent given at"), null=True, blank=True
    )
    marketing_sms_at = models.DateTimeField(
        _("SMS marketing consent given at"), null=True, blank=True
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, editable=False)
    marketing_inbox_at = models.DateTimeField(
        _("inbox marketing consent given at"), null=True, blank=True
    )
    marketing_push_at = models.DateTimeField(
        _("push marketing consent given at"), null=True, blank=True
    )

    class Meta:
        indexes = [models.Index(fields=["status"])]
        constraints = [
            # A verified number signs one member in: no two members verify it.
            models.UniqueConstraint(
                fields=["phone"],
                condition=models.Q(phone_verified_at__isnull=False),
                name="member_verified_phone_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None


class Sanction(models.Model):
    """A sanction staff applied to a member, with who, when and why: the record of
    every change of a member's status by staff (members/services.py:
    member_sanction). A warning changes no status; the others move it."""

    class Kind(models.TextChoices):
        WARN = "warn", _("Warn")
        RESTRICT = "restrict", _("Restrict (no earning or spending)")
        FREEZE = "freeze", _("Freeze (no login, no transactions)")
        LIFT = "lift", _("Lift (active again)")

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="sanctions")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    status_before = models.CharField(max_length=10, choices=Member.Status.choices)
    status_after = models.CharField(max_length=10, choices=Member.Status.choices)
    reason = models.TextField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        indexes = [models.Index(fields=["member", "-created_at"], name="sanction_member_recent")]
        constraints = [
            models.CheckConstraint(condition=~models.Q(reason=""), name="sanction_has_reason")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.member}"
