"""Broadcasts: a message staff write once (in the three languages) and send to
a segment, to tiers or to every member, through the outbox.

They live here, not in `notifications`, because their audience is named by
tiers and lifecycle stages, which the layers below cannot see; what a message
may reach (consent, caps, suppression) stays the outbox's rule
(`notifications.selectors.members_reachable`), used for the preview's count and
for choosing whom to queue, and applied again by the sender at send time.

Sending is a Celery task that queues the messages in chunks of CHUNK members
(by member id), each chunk in its own transaction with the broadcast's progress;
every message has the key `broadcast:<id>`, so a task that runs twice, or is
re-run after a crash, queues nobody twice.
"""

from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone, translation

from members.models import Member
from notifications.models import Message
from notifications.selectors import Reach, members_reachable, reach_count
from notifications.services import message_build, messages_queue
from shop.errors import DomainError
from tiers.models import MemberTier, Tier

from .models import Broadcast

CHUNK = 1000
TEMPLATE = "campaigns.broadcast"


class BroadcastNotDraft(DomainError):
    code = "broadcast_not_draft"


def broadcast_audience(*, broadcast: Broadcast) -> QuerySet[Member]:
    """Every member the broadcast names: in one of its tiers (a member with no
    tier yet is in the lowest) and one of its lifecycle stages; empty lists
    name everyone."""
    members = Member.objects.all()
    if broadcast.tiers:
        in_tiers = Q(tier_state__tier__code__in=broadcast.tiers)
        lowest = Tier.objects.order_by("rank").values_list("code", flat=True).first()
        if lowest in broadcast.tiers:
            in_tiers |= ~Exists(MemberTier.objects.filter(member=OuterRef("pk")))
        members = members.filter(in_tiers)
    if broadcast.segments:
        members = members.filter(segment__lifecycle__in=broadcast.segments)
    return members


def broadcast_reach(*, broadcast: Broadcast) -> Reach:
    """How many members the broadcast would reach if sent now, and why not the
    others (inactive, no address, no consent, capped)."""
    return reach_count(
        members=broadcast_audience(broadcast=broadcast),
        channel=broadcast.channel,
        kind=broadcast.kind,
    )


def broadcast_start(*, broadcast: Broadcast) -> Broadcast:
    """Send a draft: it becomes `sending` and the task that queues its messages
    starts once this commits. Sending twice is refused."""
    from .tasks import send_broadcast

    with transaction.atomic():
        started = Broadcast.objects.filter(pk=broadcast.pk, status=Broadcast.Status.DRAFT).update(
            status=Broadcast.Status.SENDING, started_at=timezone.now()
        )
        if not started:
            raise BroadcastNotDraft("This broadcast has been sent already.")
        transaction.on_commit(lambda: send_broadcast.delay(broadcast.pk), robust=True)
    broadcast.refresh_from_db()
    return broadcast


def _key(broadcast: Broadcast) -> str:
    return f"broadcast:{broadcast.pk}"


def broadcast_send(*, broadcast_id: int) -> int:
    """Queue the broadcast's messages, chunk by chunk from where it stopped, to
    the members it reaches; returns how many messages it has in the outbox."""
    broadcast = Broadcast.objects.get(pk=broadcast_id)
    if broadcast.status != Broadcast.Status.SENDING:
        return broadcast.recipients
    reachable = members_reachable(
        members=broadcast_audience(broadcast=broadcast),
        channel=broadcast.channel,
        kind=broadcast.kind,
    )
    while True:
        with transaction.atomic():
            broadcast = Broadcast.objects.select_for_update().get(pk=broadcast_id)
            ids = list(
                reachable.filter(pk__gt=broadcast.last_member_id)
                .order_by("pk")
                .values_list("pk", flat=True)[:CHUNK]
            )
            if not ids:
                break
            messages_queue(
                messages=[
                    message_build(
                        member_id=member_id,
                        template=TEMPLATE,
                        context={"broadcast": broadcast.pk},
                        channel=broadcast.channel,
                        kind=broadcast.kind,
                        key=_key(broadcast),
                    )
                    for member_id in ids
                ]
            )
            broadcast.last_member_id = ids[-1]
            broadcast.recipients = Message.objects.filter(key=_key(broadcast)).count()
            broadcast.save(update_fields=["last_member_id", "recipients"])
    Broadcast.objects.filter(pk=broadcast_id, status=Broadcast.Status.SENDING).update(
        status=Broadcast.Status.SENT, finished_at=timezone.now()
    )
    return broadcast.recipients


def broadcast_contexts(stored: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the broadcast template sees: its subject and message in the
    message's language (the broadcasts read once for all the messages)."""
    broadcasts = Broadcast.objects.in_bulk({each.get("broadcast") for each in stored} - {None})
    language = translation.get_language() or ""
    contexts = []
    for each in stored:
        broadcast = broadcasts.get(each.get("broadcast"))
        subject, body = broadcast.text_in(language) if broadcast is not None else ("", "")
        contexts.append({"subject": subject, "body": body})
    return contexts
