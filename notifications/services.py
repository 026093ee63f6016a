"""The outbox: every message to a member goes through here.

Queueing writes `Message` rows in the caller's transaction and asks for a send
once it commits; nothing here ever raises into the work that queued a message.
Sending (`outbox_send_due`, run by a Celery task after each commit, by beat every
minute and by `manage.py send_outbox`) claims what is due with a guarded update
(rows another sender holds are skipped), so two senders never send one message
twice; a failed send is recorded on the row and retried with exponential
backoff, up to MAX_ATTEMPTS.

At send time: a member no longer active (but for a notice of
their own status, registry.register_status_notice), without an e-mail address, or whose
address is on the suppression list, is not written to (suppressed, with the
reason); marketing needs the channel's consent
then, at most MARKETING_CAP per member and channel in a rolling
MARKETING_CAP_DAYS (counted over the outbox), and waits out QUIET_HOURS and,
with MARKETING_SEND_TIME `usual_hour`, for the member's usual hour
(notifications.sendtime). SMS and Web Push are sent by notifications.channels.
"""

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from typing import Any

import structlog
from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F, Q
from django.template import engines
from django.template.loader import render_to_string
from django.utils import timezone, translation
from prometheus_client import Counter as MetricCounter

from batch.services import program_zone
from members.models import Member

from .channels import CHANNEL_CONSENT, SENDERS, Undeliverable, channel_copies
from .claims import rows_claim
from .models import Message, Suppression, Unsubscription
from .registry import is_status_notice, template_context, template_contexts
from .sendtime import marketing_send_at
from .webhooks import webhooks_send_due

MAX_ATTEMPTS = 10
BACKOFF = dt.timedelta(minutes=1)  # doubled after each failed attempt
BACKOFF_MAX = dt.timedelta(hours=6)
LEASE = dt.timedelta(minutes=15)  # a claimed message is another sender's after this
BATCH = 100
MARKETING_CAP_DAYS = 7

UNSUBSCRIBE_SALT = "notifications.unsubscribe"

# The member's field holding when they consented to marketing on each channel.
CONSENT: dict[str, str] = {
    Message.Channel.EMAIL: "marketing_email_at",
    Message.Channel.INBOX: "marketing_inbox_at",
    **CHANNEL_CONSENT,
}

log = structlog.get_logger(__name__)

OUTCOMES = MetricCounter(
    "loyalty_outbox_messages",
    "Outbox messages handled by senders, by channel, kind and outcome.",
    ["channel", "kind", "outcome"],
)


class Suppressed(Exception):
    """A message that must not go: its reason is recorded on the row."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def message_build(
    *,
    member_id: int,
    template: str,
    context: dict[str, Any] | None = None,
    channel: str = Message.Channel.EMAIL,
    kind: str = Message.Kind.TRANSACTIONAL,
    key: str = "",
    language: str = "",
) -> Message:
    """A message ready for `messages_queue` (not saved)."""
    return Message(
        member_id=member_id,
        template=template,
        context=context or {},
        channel=channel,
        kind=kind,
        key=key,
        language=language,
    )


def messages_queue(*, messages: Iterable[Message]) -> None:
    """Put messages in the outbox in the caller's transaction (one with a member
    and key already queued is left out), with their SMS and Web Push copies for
    the members who can get them, and send them once it commits."""
    messages = list(messages)
    Message.objects.bulk_create([*messages, *channel_copies(messages)], ignore_conflicts=True)
    outbox_send_after_commit()


def outbox_send_after_commit() -> None:
    """Ask for the outbox to be sent when the current transaction commits. A
    failure to ask (the broker down) is logged, never raised: beat or
    `send_outbox` sends the messages later."""
    from .tasks import send_outbox

    transaction.on_commit(send_outbox.delay, robust=True)


def quiet_hours(spec: str) -> tuple[int, int] | None:
    """QUIET_HOURS as (first hour, hour it ends): "22-8" is 22:00 to 08:00; empty
    means none."""
    if not spec.strip():
        return None
    first, _, end = spec.partition("-")
    if not all(part.strip().isdigit() and int(part) <= 23 for part in (first, end)):
        raise ValueError(f"QUIET_HOURS must be two hours 0-23 like 22-8, not {spec!r}")
    return int(first), int(end)


def in_quiet_hours(at: dt.datetime) -> bool:
    hours = quiet_hours(settings.QUIET_HOURS)
    if hours is None or hours[0] == hours[1]:
        return False
    first, end = hours
    hour = at.astimezone(program_zone()).hour
    return first <= hour < end if first < end else hour >= first or hour < end


def _claim(now: dt.datetime) -> list[Message]:
    """Take up to BATCH due messages for this sender (notifications.claims).
    Marketing waits out quiet hours."""
    due = Message.objects.filter(state=Message.State.QUEUED, next_attempt_at__lte=now)
    if in_quiet_hours(now):
        due = due.exclude(kind=Message.Kind.MARKETING)
    claimed = rows_claim(due, now=now, lease=LEASE, batch=BATCH)
    return list(claimed.select_related("member__user"))


def _check_marketing(message: Message, now: dt.datetime) -> None:
    """Consent for the channel, then the cap. The member's row is locked while
    counting, so two senders cannot both take the last slot: an earlier marketing
    message already claimed (queued, attempted: being sent or retried) holds its
    slot until it is sent or given up; the earlier of two goes first."""
    member = message.member
    if getattr(member, CONSENT[message.channel]) is None:
        raise Suppressed("no_consent")
    with transaction.atomic():
        Member.objects.select_for_update().filter(pk=member.pk).values_list("pk").first()
        since = now - dt.timedelta(days=MARKETING_CAP_DAYS)
        taken = (
            Message.objects.filter(
                member_id=member.pk, kind=Message.Kind.MARKETING, channel=message.channel
            )
            .filter(
                Q(state=Message.State.SENT, sent_at__gt=since)
                | Q(state=Message.State.QUEUED, attempts__gt=0, pk__lt=message.pk)
            )
            .count()
        )
    if taken >= settings.MARKETING_CAP:
        raise Suppressed("marketing_cap")


def _check(message: Message, now: dt.datetime) -> None:
    member = message.member
    if member.status != Member.Status.ACTIVE and not (
        member.status != Member.Status.CLOSED and is_status_notice(message.template)
    ):
        raise Suppressed("member_inactive")
    if message.kind == Message.Kind.MARKETING:
        _check_marketing(message, now)


def message_language(message: Message) -> str:
    return message.language or message.member.language or settings.LANGUAGE_CODE


def _common_context(message: Message) -> dict[str, Any]:
    return {
        "member": message.member,
        "program_name": settings.PROGRAM_NAME,
        "site_url": settings.SITE_URL.rstrip("/"),
        "marketing": message.kind == Message.Kind.MARKETING,
        "unsubscribe_url": unsubscribe_url(member_id=message.member_id, channel=message.channel),
    }


def message_context(message: Message) -> dict[str, Any]:
    """What every template of the message sees (in the active language)."""
    return {**_common_context(message), **template_context(message.template, message.context)}


def messages_text(messages: list[Message]) -> list[tuple[str, str]]:
    """Each message's subject (one line) and body (plain text), in its language:
    what the inbox shows, without the e-mail's layout. The messages of one
    template and language get their contexts together (one query for all)."""
    groups: dict[tuple[str, str], list[int]] = {}
    for index, message in enumerate(messages):
        groups.setdefault((message.template, message_language(message)), []).append(index)
    texts: list[tuple[str, str]] = [("", "")] * len(messages)
    text = engines["text"]
    for (template, language), indexes in groups.items():
        app, _, name = template.partition(".")
        subject_template = text.get_template(f"{app}/email/{name}_subject.txt")
        body_template = text.get_template(f"{app}/email/{name}_message.txt")
        with translation.override(language):
            contexts = template_contexts(template, [messages[i].context for i in indexes])
            for index, context in zip(indexes, contexts, strict=True):
                full = {**_common_context(messages[index]), **context}
                subject = subject_template.render(full)
                texts[index] = (" ".join(subject.split()), body_template.render(full).strip())
    return texts


def message_text(message: Message) -> tuple[str, str]:
    """The message's subject (one line) and body (plain text), in its language."""
    return messages_text([message])[0]


def message_render(message: Message) -> dict[str, str]:
    """The message in its language: `subject`, `body` (plain text) and, for
    e-mail, `text` and `html` in the programme's layout with its footer."""
    subject, body = message_text(message)
    with translation.override(message_language(message)):
        layout = {**message_context(message), "subject": subject, "body": body}
        return {
            "subject": subject,
            "body": body,
            "text": engines["text"].get_template("notifications/email/layout.txt").render(layout),
            "html": render_to_string("notifications/email/layout.html", layout),
        }


def _email(message: Message, connection: Any) -> None:
    address = message.member.user.email
    if not address:
        raise Suppressed("no_address")
    listed = Suppression.objects.filter(email__iexact=address).values_list("reason", flat=True)
    if reason := listed.first():
        raise Suppressed(f"address_{reason}")
    rendered = message_render(message)
    headers = {}
    if message.kind == Message.Kind.MARKETING:
        # RFC 8058 one-click unsubscribe: the mail client POSTs to the link.
        link = unsubscribe_url(member_id=message.member_id, channel=message.channel)
        headers = {
            "List-Unsubscribe": f"<{link}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    email = EmailMultiAlternatives(
        rendered["subject"], rendered["text"], to=[address], connection=connection, headers=headers
    )
    email.attach_alternative(rendered["html"], "text/html")
    email.send()


def _settle(message: Message, **fields: Any) -> None:
    """Write the outcome, if the row is still this sender's claim."""
    Message.objects.filter(pk=message.pk, claim=message.claim).update(claim="", **fields)


def _retry_at(attempts: int, now: dt.datetime) -> dt.datetime:
    return now + min(BACKOFF * 2 ** (attempts - 1), BACKOFF_MAX)


def _send(message: Message, connection: Any) -> None:
    if message.channel == Message.Channel.EMAIL:
        _email(message, connection)
    elif (sender := SENDERS.get(message.channel)) is not None:
        language = message_language(message)
        with translation.override(language):
            context = message_context(message)
        try:
            sender(message, context, language)
        except Undeliverable as undeliverable:
            raise Suppressed(undeliverable.reason) from None


def _deliver(message: Message, connection: Any, now: dt.datetime) -> str:
    if message.kind == Message.Kind.MARKETING and (
        later := marketing_send_at(member_id=message.member_id, now=now)
    ):
        # Not the member's hour: wait for it, without counting this claim as a try.
        _settle(message, attempts=F("attempts") - 1, next_attempt_at=later)
        return "deferred"
    try:
        _check(message, now)
        _send(message, connection)
    except Suppressed as suppressed:
        _settle(message, state=Message.State.SUPPRESSED, reason=suppressed.reason)
        return Message.State.SUPPRESSED
    except Exception as error:
        reason = f"{type(error).__name__}: {error}"[:300]
        given_up = message.attempts >= MAX_ATTEMPTS
        log.warning(
            "outbox_send_failed",
            message_id=message.pk,
            template=message.template,
            attempts=message.attempts,
            given_up=given_up,
            error=reason,
        )
        if given_up:
            _settle(message, state=Message.State.FAILED, reason=reason)
            return Message.State.FAILED
        _settle(message, reason=reason, next_attempt_at=_retry_at(message.attempts, now))
        return "retrying"
    _settle(message, state=Message.State.SENT, sent_at=timezone.now(), reason="")
    return Message.State.SENT


def outbox_send_due() -> dict[str, int]:
    """Send every message due now, batch by batch, then the webhook deliveries
    due; returns how many were sent, suppressed, failed for good or left to retry
    (deliveries counted as `webhooks_<outcome>`)."""
    now = timezone.now()
    counts: Counter[str] = Counter()
    connection = get_connection()
    try:
        while batch := _claim(now):
            for message in batch:
                outcome = _deliver(message, connection, now)
                counts[outcome] += 1
                OUTCOMES.labels(message.channel, message.kind, outcome).inc()
    finally:
        connection.close()
    counts.update(webhooks_send_due(now=now))
    if counts:
        log.info("outbox_sent", **counts)
    return dict(counts)


def messages_requeue(*, ids: Iterable[int]) -> int:
    """Queue failed or suppressed messages again, from a first attempt (staff's
    resend); returns how many."""
    requeued = Message.objects.filter(
        pk__in=list(ids), state__in=[Message.State.FAILED, Message.State.SUPPRESSED]
    ).update(state=Message.State.QUEUED, attempts=0, next_attempt_at=timezone.now(), reason="")
    if requeued:
        outbox_send_after_commit()
    return requeued


def unsubscribe_token(*, member_id: int, channel: str) -> str:
    """A signed token naming the member and channel: it cannot be made or altered
    without SECRET_KEY, and does not expire (old e-mails' links keep working)."""
    return signing.dumps({"m": member_id, "c": channel}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_url(*, member_id: int, channel: str) -> str:
    token = unsubscribe_token(member_id=member_id, channel=channel)
    return f"{settings.SITE_URL.rstrip('/')}/unsubscribe/{token}/"


def unsubscribe_member(*, token: str) -> tuple[Member, str] | None:
    """The member and channel a token names, or None if it is not one of ours."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        member_id, channel = int(data["m"]), str(data["c"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    if channel not in Message.Channel.values:
        return None
    member = Member.objects.filter(pk=member_id).first()
    return (member, channel) if member is not None else None


def unsubscribe_apply(*, member: Member, channel: str) -> None:
    """Withdraw the member's marketing consent for `channel` and record when.
    Marketing already queued is then suppressed at send time."""
    with transaction.atomic():
        Member.objects.filter(pk=member.pk).update(**{CONSENT[channel]: None})
        Unsubscription.objects.create(member=member, channel=channel)
    log.info("unsubscribed", member=member.number, channel=channel)


def inbox_mark_read(*, member: Member, message_ids: Iterable[int] | None = None) -> int:
    """Mark the member's inbox messages read (all of them when `message_ids` is
    None); another member's messages are never touched. Returns how many."""
    unread = Message.objects.filter(
        member=member, channel=Message.Channel.INBOX, read_at__isnull=True
    )
    if message_ids is not None:
        unread = unread.filter(pk__in=list(message_ids))
    return unread.update(read_at=timezone.now())


def messages_erase(member: Member) -> None:
    """A member closed their account: what their messages said is erased, and
    nothing still queued goes out."""
    Message.objects.filter(member=member, state=Message.State.QUEUED).update(
        state=Message.State.SUPPRESSED, reason="member_closed"
    )
    Message.objects.filter(member=member).update(context={})
