"""Writes to members. Functions are `<noun>_<verb>` with keyword-only arguments."""

import datetime as dt
import secrets
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Member, Sanction, User
from .phones import phone_normalize

NUMBER_DIGITS = 8
REFERRAL_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
REFERRAL_LENGTH = 8
_ATTEMPTS = 10


def _new_number() -> str:
    return "M" + "".join(secrets.choice("0123456789") for _ in range(NUMBER_DIGITS))


def _new_referral_code() -> str:
    return "".join(secrets.choice(REFERRAL_ALPHABET) for _ in range(REFERRAL_LENGTH))


def member_create(
    *,
    user: User,
    external_id: str | None = None,
    phone: str = "",
    language: str = "",
) -> Member:
    """Create the member record of a user, with a fresh random member number and
    referral code. A clash of the random values is retried; any other integrity
    error (the user already has a member, the external id is taken) propagates."""
    for _attempt in range(_ATTEMPTS):
        member = Member(
            user=user,
            number=_new_number(),
            referral_code=_new_referral_code(),
            external_id=external_id or None,
            phone=phone,
            language=language,
        )
        try:
            with transaction.atomic():
                member.save()
                if phone:
                    member_activity(member_id=member.pk, activity="enrol")
        except IntegrityError:
            if Member.objects.filter(user=user).exists():
                raise
            if external_id and Member.objects.filter(external_id=external_id).exists():
                raise
            continue
        return member
    raise IntegrityError("could not allocate a unique member number")


def member_mark_verified(*, member: Member) -> None:
    Member.objects.filter(pk=member.pk, email_verified_at__isnull=True).update(
        email_verified_at=timezone.now()
    )


def member_update_profile(
    *,
    member: Member,
    first_name: str,
    last_name: str,
    birthday: dt.date | None,
    language: str,
    marketing_email: bool,
    marketing_sms: bool,
    marketing_inbox: bool,
    marketing_push: bool,
) -> Member:
    """The member's own edit of their profile. The birthday can be set once; after
    that only staff change it."""
    now = timezone.now()
    with transaction.atomic():
        member = Member.objects.select_for_update().select_related("user").get(pk=member.pk)
        if birthday != member.birthday:
            if member.birthday is not None:
                raise ValidationError(
                    {"birthday": _("Your birthday is already on file; ask us to correct it.")}
                )
            if birthday is not None and birthday > timezone.localdate(now):
                raise ValidationError({"birthday": _("A birthday cannot be in the future.")})
            member.birthday = birthday
            member.birthday_set_at = now
        member.language = language
        if marketing_email != (member.marketing_email_at is not None):
            member.marketing_email_at = now if marketing_email else None
        if marketing_sms != (member.marketing_sms_at is not None):
            member.marketing_sms_at = now if marketing_sms else None
        if marketing_inbox != (member.marketing_inbox_at is not None):
            member.marketing_inbox_at = now if marketing_inbox else None
        if marketing_push != (member.marketing_push_at is not None):
            member.marketing_push_at = now if marketing_push else None
        member.save()
        user = member.user
        user.first_name = first_name
        user.last_name = last_name
        user.save(update_fields=["first_name", "last_name"])
    return member


def member_language_set(*, member: Member, language: str) -> None:
    """The member's preferred language, chosen with the portal's language switch."""
    if language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": _("Not a supported language.")})
    Member.objects.filter(pk=member.pk).update(language=language)
    member.language = language


_closing_hooks: list[Callable[[Member], None]] = []


def register_closing_hook(hook: Callable[[Member], None]) -> None:
    """Apps above `members` erase what they keep about a member who closes their
    account (in the closing transaction)."""
    if hook not in _closing_hooks:
        _closing_hooks.append(hook)


def member_close(*, member: Member) -> Member:
    """The member closes their account: personal data (name, e-mail, phone,
    birthday, the shop's customer id, consents) is erased, the login can never
    be used again, and the member number stays with the ledger, anonymised, for
    the accounts. Closing twice is the same as once."""
    from allauth.account.models import EmailAddress

    now = timezone.now()
    with transaction.atomic():
        member = Member.objects.select_for_update().select_related("user").get(pk=member.pk)
        if member.status == Member.Status.CLOSED:
            return member
        Member.objects.filter(pk=member.pk).update(
            status=Member.Status.CLOSED,
            closed_at=now,
            phone="",
            phone_verified_at=None,
            birthday=None,
            birthday_set_at=None,
            external_id=None,
            marketing_email_at=None,
            marketing_sms_at=None,
            marketing_inbox_at=None,
            marketing_push_at=None,
        )
        user = member.user
        user.email = None
        user.first_name = ""
        user.last_name = ""
        user.is_active = False
        user.set_unusable_password()
        user.save(update_fields=["email", "first_name", "last_name", "is_active", "password"])
        EmailAddress.objects.filter(user=user).delete()
        member.refresh_from_db()
        for hook in _closing_hooks:
            hook(member)
    return member


def _member_find(*, external_id: str | None, email: str | None) -> Member | None:
    members = Member.objects.select_related("user")
    if external_id:
        member = members.filter(external_id=external_id).first()
        if member is not None:
            return member
    if email:
        return members.filter(user__email=email).first()
    return None


def _member_enrol_validate(*, external_id: str | None, email: str | None, language: str) -> None:
    errors: dict[str, str] = {}
    if not external_id and not email:
        message = _("Give the customer's external_id or email.")
        errors = {"external_id": message, "email": message}
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = _("Enter a valid e-mail address.")
    if language and language not in dict(settings.LANGUAGES):
        errors["language"] = _("Not a supported language.")
    if errors:
        raise ValidationError(errors)


def member_enrol(
    *,
    external_id: str | None = None,
    email: str | None = None,
    email_verified: bool = False,
    first_name: str = "",
    last_name: str = "",
    language: str = "",
    phone: str = "",
) -> tuple[Member, bool]:
    """The member the shop means, enrolled if new: found by the shop's customer id,
    then by e-mail (lowercased, as allauth stores it); otherwise a member is created
    for the user with that e-mail, or for a new user with no usable password until
    they sign up. Never for a staff user's address. Returns (member, created).

    `email_verified`: the shop has verified the address itself, so the member whose
    address it is may redeem at once. A member found by e-mail with no customer id
    yet is given this one only when the address is verified on either side (by the
    shop now, or by the member in the portal): an unverified address proves nothing
    about who owns the portal account. Safe under concurrency: when another request
    enrols the same customer at the same moment, the unique external_id / e-mail /
    user refuse the second insert and the first member is returned."""
    email = email.strip().lower() if email else None
    external_id = external_id or None
    _member_enrol_validate(external_id=external_id, email=email, language=language)
    if phone:
        try:
            phone = phone_normalize(phone)
        except ValidationError as error:
            raise ValidationError({"phone": error.messages[0]}) from None

    member = _member_find(external_id=external_id, email=email)
    if member is not None:
        if external_id and member.external_id is None and (email_verified or member.is_verified):
            _member_link_external_id(member=member, external_id=external_id)
        if email_verified and email and member.user.email == email:
            _member_verify_by_shop(member=member)
        return member, False
    try:
        with transaction.atomic():
            user = User.objects.filter(email=email, member__isnull=True).first() if email else None
            if user is not None and (user.is_staff or user.is_superuser):
                raise ValidationError(
                    {"email": _("This address belongs to a staff account; it cannot enrol.")}
                )
            if user is None:
                user = User.objects.create_user(
                    email=email, password=None, first_name=first_name, last_name=last_name
                )
            member = member_create(
                user=user, external_id=external_id, phone=phone, language=language
            )
    except IntegrityError:
        member = _member_find(external_id=external_id, email=email)
        if member is None:
            raise
        return member, False
    if email_verified and email:
        _member_verify_by_shop(member=member)
    return member, True


def _member_verify_by_shop(*, member: Member) -> None:
    """The shop vouches for the member's address. A portal account made with it but
    never verified was made by someone who did not prove they own it: its password
    stops working (which also ends its sessions), and the address's owner sets one
    through "forgot password"."""
    if member.is_verified:
        return
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=member.user_id)
        if user.has_usable_password():
            user.set_unusable_password()
            user.save(update_fields=["password"])
        member_mark_verified(member=member)
    member.refresh_from_db(fields=["email_verified_at"])


def _member_link_external_id(*, member: Member, external_id: str) -> None:
    try:
        with transaction.atomic():
            linked = Member.objects.filter(pk=member.pk, external_id__isnull=True).update(
                external_id=external_id
            )
    except IntegrityError:
        return  # another member took this customer id meanwhile; leave this one as it is
    if linked:
        member.external_id = external_id


_Status = Member.Status
# Each sanction: the statuses it applies to and the status it leaves (None: the
# status stays, a warning). A closed member takes none: closing is final.
SANCTIONS: dict[str, tuple[frozenset[str], str | None]] = {
    Sanction.Kind.WARN: (frozenset({_Status.ACTIVE, _Status.RESTRICTED, _Status.FROZEN}), None),
    Sanction.Kind.RESTRICT: (frozenset({_Status.ACTIVE, _Status.FROZEN}), _Status.RESTRICTED),
    Sanction.Kind.FREEZE: (frozenset({_Status.ACTIVE, _Status.RESTRICTED}), _Status.FROZEN),
    Sanction.Kind.LIFT: (frozenset({_Status.RESTRICTED, _Status.FROZEN}), _Status.ACTIVE),
}


SanctionHook = Callable[[Sanction], None]
_sanction_hooks: list[SanctionHook] = []


def register_sanction_hook(hook: SanctionHook) -> None:
    """Have `hook(sanction)` called by member_sanction inside its transaction, after
    the sanction is recorded: how the layers above this one (the ledger, the
    outbox) take part in a sanction that this bottom layer cannot import. A hook
    that raises undoes the sanction. Registered in an AppConfig.ready()."""
    if hook not in _sanction_hooks:
        _sanction_hooks.append(hook)


ActivityHook = Callable[[int, str, Mapping[str, Any]], None]
_activity_hooks: list[ActivityHook] = []


def register_activity_hook(hook: ActivityHook) -> None:
    """Have `hook(member_id, activity, facts)` called after a member's activity
    commits (the write-path fraud checks of a layer above). Registered in an
    AppConfig.ready()."""
    if hook not in _activity_hooks:
        _activity_hooks.append(hook)


def member_activity(
    *, member_id: int, activity: str, facts: Mapping[str, Any] | None = None
) -> None:
    """A member did `activity` (`earn`, `redeem`, `referral`, `enrol`) in the
    current transaction: the activity hooks hear of it once it commits, and a
    hook that fails is logged, never raised into the work that did it. Nothing
    is heard of work that rolls back. `facts`: what the work read under its lock
    that a hook would otherwise read again, such as `points_on_day` (the
    programme day and the points the member has earned on it, this work's
    included)."""
    for hook in _activity_hooks:
        transaction.on_commit(partial(hook, member_id, activity, facts or {}), robust=True)


def sanction_kinds_for(*, status: str) -> list[str]:
    """The sanctions a member in `status` can be given, in the order of Sanction.Kind."""
    return [kind for kind, (applies_to, _after) in SANCTIONS.items() if status in applies_to]


def member_sanction(*, member: Member, kind: str, reason: str, actor: User) -> Sanction:
    """Staff warn, restrict, freeze or lift a member, always with a reason: the one
    way a member's status changes by staff, recorded as a Sanction (who, when, why,
    the status before and after) in the same transaction as the change, under the
    member's row lock, so two staff acting at once are applied one after the other.

    The registered sanction hooks run in the same transaction: a frozen member's
    points get their frozen time back when they leave that status (points), the
    member is told and a `member.sanctioned` webhook queued (staff).

    Refuses (ValidationError, with a code) an empty reason ("reason_required"), an
    unknown kind ("invalid") and a sanction the member's status does not take, e.g.
    lifting an active member ("sanction_not_applicable")."""
    reason = reason.strip()
    if not reason:
        raise ValidationError(
            {"reason": ValidationError(_("Give the reason."), code="reason_required")}
        )
    if kind not in SANCTIONS:
        raise ValidationError({"kind": ValidationError(_("Not a sanction."), code="invalid")})
    applies_to, status_after = SANCTIONS[kind]
    with transaction.atomic():
        locked = Member.objects.select_for_update().get(pk=member.pk)
        if locked.status not in applies_to:
            raise ValidationError(
                _("A member whose status is %(status)s cannot be given this sanction.")
                % {"status": locked.get_status_display()},
                code="sanction_not_applicable",
            )
        status_before = locked.status
        status_after = status_after or status_before
        if status_after != status_before:
            Member.objects.filter(pk=member.pk).update(status=status_after)
        sanction = Sanction.objects.create(
            member=locked,
            kind=kind,
            status_before=status_before,
            status_after=status_after,
            reason=reason,
            actor=actor,
        )
        for hook in _sanction_hooks:
            hook(sanction)
    member.status = status_after
    return sanction


def member_phone_set(*, member: Member, phone: str, verified: bool) -> None:
    """The member's mobile number (E.164), verified or not yet. A new number
    is unverified until its code is entered; a number another member verified
    cannot be verified again (the database refuses it)."""
    Member.objects.filter(pk=member.pk).update(
        phone=phone_normalize(phone), phone_verified_at=timezone.now() if verified else None
    )
    member.refresh_from_db(fields=["phone", "phone_verified_at"])
