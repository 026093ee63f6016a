"""Writes of the staff's tools. Functions are `<noun>_<verb>` with keyword-only
arguments."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from members.models import Sanction, User
from members.services import SANCTIONS, member_sanction

from .models import FraudFlag

CLEAR = "clear"
# What staff may decide on a flag: clear it, or one of the sanctions but lifting.
DECISIONS = (CLEAR, Sanction.Kind.WARN, Sanction.Kind.RESTRICT, Sanction.Kind.FREEZE)


def fraud_flags_raise(*, flags: list[FraudFlag]) -> int:
    """Put the flagged members on the review queue: a flag already raised for the
    member, rule and period (open or decided) is not raised again (its unique
    key). Flags are rare, so each is its own insert. Returns how many were new."""
    raised = 0
    for flag in flags:
        try:
            with transaction.atomic():
                flag.save(force_insert=True)
        except IntegrityError:
            continue
        raised += 1
    return raised


def fraud_flag_decide(*, flag: FraudFlag, decision: str, note: str, actor: User) -> FraudFlag:
    """Staff decide an open flag: clear it with a note, or sanction the member
    (warn, restrict, freeze) with the note as the sanction's reason, through the
    one sanction service. The flag is locked, so two staff deciding at once
    decide once. Refuses (ValidationError with a code) an empty note
    ("note_required"), an unknown decision ("invalid"), a flag already decided
    ("flag_decided") and a sanction the member's status does not take."""
    note = note.strip()
    if not note:
        raise ValidationError({"note": ValidationError(_("Give a note."), code="note_required")})
    if decision not in DECISIONS or (decision != CLEAR and decision not in SANCTIONS):
        raise ValidationError({"decision": ValidationError(_("Not a decision."), code="invalid")})
    with transaction.atomic():
        locked = FraudFlag.objects.select_for_update().select_related("member").get(pk=flag.pk)
        if locked.status != FraudFlag.Status.OPEN:
            raise ValidationError(_("This flag was decided already."), code="flag_decided")
        sanction = None
        if decision != CLEAR:
            sanction = member_sanction(
                member=locked.member, kind=decision, reason=note, actor=actor
            )
        locked.status = (
            FraudFlag.Status.CLEARED if sanction is None else FraudFlag.Status.SANCTIONED
        )
        locked.note = note
        locked.sanction = sanction
        locked.resolved_by = actor
        locked.resolved_at = timezone.now()
        locked.save(update_fields=["status", "note", "sanction", "resolved_by", "resolved_at"])
    return locked
