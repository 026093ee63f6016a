"""Reads of the outbox: the member's inbox (the messages of the `inbox`
channel that were sent) and their messages for the data export."""

from dataclasses import dataclass

from members.models import Member

from .models import Message
from .services import message_render


def _inbox(member: Member):  # type: ignore[no-untyped-def]
    return Message.objects.filter(
        member=member, channel=Message.Channel.INBOX, state=Message.State.SENT
    )


def inbox_unread_count(*, member: Member) -> int:
    return _inbox(member).filter(read_at__isnull=True).count()


@dataclass(frozen=True)
class InboxItem:
    message: Message
    subject: str
    body: str


def inbox_item(message: Message) -> InboxItem:
    rendered = message_render(message)
    return InboxItem(message=message, subject=rendered["subject"], body=rendered["body"])


def inbox_page(
    *, member: Member, before_id: int | None = None, unread_only: bool = False, limit: int = 20
) -> tuple[list[InboxItem], int | None]:
    """A page of the member's inbox, newest first, by keyset: (items, the id to
    ask for the next page or None)."""
    messages = _inbox(member).select_related("member__user").order_by("-id")
    if unread_only:
        messages = messages.filter(read_at__isnull=True)
    if before_id is not None:
        messages = messages.filter(id__lt=before_id)
    page = list(messages[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    return [inbox_item(message) for message in page], (page[-1].id if more else None)


def inbox_get(*, member: Member, message_id: int) -> InboxItem | None:
    """One message of the member's own inbox (another member's is not found)."""
    message = _inbox(member).select_related("member__user").filter(pk=message_id).first()
    return inbox_item(message) if message is not None else None


def messages_export(*, member: Member) -> list[dict[str, object]]:
    """Every message sent or queued to the member, for their data export."""
    return [
        {
            "channel": message.channel,
            "kind": message.kind,
            "template": message.template,
            "context": message.context,
            "language": message.language,
            "state": message.state,
            "created_at": message.created_at.isoformat(),
            "sent_at": message.sent_at.isoformat() if message.sent_at else None,
            "read_at": message.read_at.isoformat() if message.read_at else None,
        }
        for message in Message.objects.filter(member=member).order_by("id")
    ]
