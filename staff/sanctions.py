"""What a sanction tells: the member, by a message through the outbox, and the
shop's systems, by a `member.sanctioned` webhook. A sanction hook
(members.services.register_sanction_hook), run inside the sanction's
transaction: the sanction, its message and its webhook are written together or
not at all, whichever caller applied it (a member's admin page, the members
list's action, the fraud review queue)."""

from members.models import Sanction
from notifications.services import message_build, messages_queue
from notifications.webhooks import webhook_events_queue

SANCTION_NOTICE = "staff.sanction"  # templates/staff/email/sanction_*.txt
SANCTIONED = "member.sanctioned"  # the webhook event


def sanction_payload(sanction: Sanction) -> dict[str, str]:
    """What the `member.sanctioned` webhook says. The staff's reason stays in the
    programme (it may name other members or a report)."""
    return {
        "member": sanction.member.number,
        "sanction": sanction.kind,
        "status_before": sanction.status_before,
        "status": sanction.status_after,
        "at": sanction.created_at.isoformat(),
    }


def sanction_tell(sanction: Sanction) -> None:
    messages_queue(
        messages=[
            message_build(
                member_id=sanction.member_id,
                template=SANCTION_NOTICE,
                context={"sanction": sanction.kind, "status": sanction.status_after},
                key=f"{SANCTION_NOTICE}:{sanction.pk}",
            )
        ]
    )
    webhook_events_queue(event=SANCTIONED, payloads=[sanction_payload(sanction)])
