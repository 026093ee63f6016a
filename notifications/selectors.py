"""Reads of the outbox: the member's inbox (the messages of the `inbox`
channel that were sent), their messages for the data export, and who a message
would reach now (a broadcast's preview)."""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from members.models import Member

from .models import Message, PushSubscription, Suppression
from .services import CONSENT, MARKETING_CAP_DAYS, message_text, messages_text


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
    subject, body = message_text(message)
    return InboxItem(message=message, subject=subject, body=body)


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
    items = [
        InboxItem(message=message, subject=subject, body=body)
        for message, (subject, body) in zip(page, messages_text(page), strict=True)
    ]
    return items, (page[-1].id if more else None)


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


@dataclass(frozen=True)
class Reach:
    """Of an audience, how many a message would reach now, and why the others
    would not be written to."""

    audience: int
    recipients: int
    inactive: int
    no_address: int
    no_consent: int
    capped: int


def members_reachable(*, members: QuerySet[Member], channel: str, kind: str) -> QuerySet[Member]:
    """The `members` a message of `channel` and `kind` would reach now, by the
    rules the sender applies at send time: active; for e-mail an address not on
    the suppression list; for marketing, the channel's consent and fewer than
    MARKETING_CAP marketing messages of the channel sent in the last 7 days; for
    SMS a verified phone, for Web Push a subscribed browser."""
    members = members.filter(status=Member.Status.ACTIVE)
    if channel == Message.Channel.SMS:
        members = members.filter(phone_verified_at__isnull=False).exclude(phone="")
    if channel == Message.Channel.PUSH:
        members = members.filter(Exists(PushSubscription.objects.filter(member_id=OuterRef("pk"))))
    if channel == Message.Channel.EMAIL:
        suppressed = Suppression.objects.annotate(address=Lower("email")).filter(
            address=Lower(OuterRef("user__email"))
        )
        members = members.exclude(Q(user__email__isnull=True) | Q(user__email="")).exclude(
            Exists(suppressed)
        )
    if kind == Message.Kind.MARKETING:
        members = members.filter(**{f"{CONSENT[channel]}__isnull": False})
        since = timezone.now() - dt.timedelta(days=MARKETING_CAP_DAYS)
        sent = (
            Message.objects.filter(
                kind=Message.Kind.MARKETING,
                channel=channel,
                state=Message.State.SENT,
                sent_at__gt=since,
            )
            .values("member_id")
            .annotate(n=Count("id"))
            .filter(n__gte=settings.MARKETING_CAP)
            .values("member_id")
        )
        members = members.exclude(pk__in=sent)
    return members


def reach_count(*, members: QuerySet[Member], channel: str, kind: str) -> Reach:
    """How many of `members` a message would reach now, and why not the rest
    (each reason counted among those the previous ones let through)."""
    audience = members.count()
    active = members.filter(status=Member.Status.ACTIVE)
    n_active = active.count()
    addressed = active
    if channel != Message.Channel.INBOX:
        addressed = members_reachable(
            members=active, channel=channel, kind=Message.Kind.TRANSACTIONAL
        )
    n_addressed = addressed.count() if channel != Message.Channel.INBOX else n_active
    consenting = n_addressed
    if kind == Message.Kind.MARKETING:
        consenting = addressed.filter(**{f"{CONSENT[channel]}__isnull": False}).count()
    recipients = members_reachable(members=members, channel=channel, kind=kind).count()
    return Reach(
        audience=audience,
        recipients=recipients,
        inactive=audience - n_active,
        no_address=n_active - n_addressed,
        no_consent=n_addressed - consenting,
        capped=consenting - recipients,
    )
