"""Writes of the staff's tools. Functions are `<noun>_<verb>` with keyword-only
arguments."""

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from members.models import Sanction, User
from members.services import SANCTIONS, member_sanction
from points.ledger_sql import column_types, rows_table

from .models import FraudFlag

CLEAR = "clear"
# What staff may decide on a flag: clear it, or one of the sanctions but lifting.
DECISIONS = (CLEAR, Sanction.Kind.WARN, Sanction.Kind.RESTRICT, Sanction.Kind.FREEZE)

_FLAG_COLUMNS = ("member_id", "rule", "period", "evidence", "status", "created_at", "note")
_INSERT_FLAGS = f"""
    INSERT INTO {FraudFlag._meta.db_table} ({", ".join(_FLAG_COLUMNS)})
    SELECT * FROM {{rows}} WHERE true
    ON CONFLICT DO NOTHING
    RETURNING id
"""  # noqa: S608 - the table name is the model's, values are parameters


def fraud_flags_raise(*, flags: list[FraudFlag]) -> int:
    """Put the flagged members on the review queue: a flag already raised for the
    member, rule and period (open or decided) is not raised again (its unique
    key). One INSERT that skips those (ON CONFLICT DO NOTHING): an insert that
    failed on the key and was rolled back cost the order path three round trips
    for every order of a member already flagged that day, and the ROLLBACK made
    psycopg forget every statement it had prepared on the connection. Returns how
    many were new."""
    if not flags:
        return 0
    evidence = FraudFlag._meta.get_field("evidence")
    rows, params = rows_table(
        column_types(FraudFlag, _FLAG_COLUMNS),
        [
            (
                flag.member_id,
                flag.rule,
                flag.period,
                connection.ops.adapt_json_value(flag.evidence, evidence.encoder),
                flag.status,
                connection.ops.adapt_datetimefield_value(flag.created_at),
                flag.note,
            )
            for flag in flags
        ],
    )
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_FLAGS.format(rows=rows), params)
        return len(cursor.fetchall())


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
