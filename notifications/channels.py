"""The outbox's SMS and Web Push channels.

A message on either is rendered from its own templates, in the member's
language: `<app>/sms/<name>.txt` (a marketing text ends with the unsubscribe
link), and `<app>/push/<name>_title.txt` and `_body.txt`. SMS goes to the
member's verified phone through SMS_URL's backend (notifications.sms); a push to
each browser the member subscribed (notifications.push). Consent and the cap
are the outbox's, per channel (notifications.services).

`channel_copies` adds, to messages being queued, their SMS and Web Push copies
for the templates registered with those channels (`register_channels`), for the
members who can get them: a verified phone, a push subscription, and for
marketing that channel's consent (checked again when sending).
"""

from collections.abc import Callable, Sequence

from django.conf import settings
from django.db.models import Q
from django.template import engines
from django.utils import translation

from members.models import Member

from .models import Message, PushSubscription
from .push import push_enabled, push_send
from .registry import template_channels
from .sms import SmsRefused, sms_send

# The member's field holding when they consented to marketing on each channel.
CHANNEL_CONSENT: dict[str, str] = {
    Message.Channel.SMS: "marketing_sms_at",
    Message.Channel.PUSH: "marketing_push_at",
}


class Undeliverable(Exception):
    """The member cannot be reached on the channel: the message is suppressed
    with this reason, not retried."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _render(message: Message, context: dict, *names: str) -> list[str]:
    app, _, name = message.template.partition(".")
    text = engines["text"]
    return [
        " ".join(
            text.get_template(f"{app}/{message.channel}/{name}{suffix}.txt").render(context).split()
        )
        for suffix in names
    ]


def sms_deliver(message: Message, context: dict, language: str) -> None:
    member = message.member
    if not member.phone or member.phone_verified_at is None:
        raise Undeliverable("no_phone")
    with translation.override(language):
        (body,) = _render(message, context, "")
        body = f"【{settings.PROGRAM_NAME}】{body}"
        if message.kind == Message.Kind.MARKETING:
            body += " " + translation.gettext("Unsubscribe: %(url)s") % {
                "url": context["unsubscribe_url"]
            }
    site = settings.SITE_URL.rstrip("/")
    callback = f"{site}/sms/twilio/status/?m={message.pk}"
    try:
        sms_send(to=member.phone, body=body, status_callback=callback)
    except SmsRefused as refused:
        raise Undeliverable(f"sms_refused: {refused}"[:300]) from None


def push_deliver(message: Message, context: dict, language: str) -> None:
    if not push_enabled():
        raise Undeliverable("push_off")
    subscriptions = list(PushSubscription.objects.filter(member_id=message.member_id))
    if not subscriptions:
        raise Undeliverable("no_subscription")
    with translation.override(language):
        title, body = _render(message, context, "_title", "_body")
    site = settings.SITE_URL.rstrip("/")
    if not push_send(
        subscriptions=subscriptions,
        payload={"title": title, "body": body, "url": f"{site}{context.get('push_path', '/me/')}"},
    ):
        raise Undeliverable("no_subscription")


SENDERS: dict[str, Callable[[Message, dict, str], None]] = {
    Message.Channel.SMS: sms_deliver,
    Message.Channel.PUSH: push_deliver,
}


def channel_copies(messages: Sequence[Message]) -> list[Message]:
    """The SMS and Web Push copies of `messages` (not saved) for the members who
    can get them; a copy's key is its message's with the channel after it."""
    wanted = {
        (message.member_id, channel)
        for message in messages
        for channel in template_channels(message.template)
        if message.channel == Message.Channel.EMAIL
    }
    if not wanted:
        return []
    member_ids = {member_id for member_id, _channel in wanted}
    reachable: dict[str, set[int]] = {
        Message.Channel.SMS: set(
            Member.objects.filter(pk__in=member_ids, phone_verified_at__isnull=False)
            .exclude(phone="")
            .values_list("pk", flat=True)
        ),
        Message.Channel.PUSH: set(
            PushSubscription.objects.filter(member_id__in=member_ids).values_list(
                "member_id", flat=True
            )
        )
        if push_enabled()
        else set(),
    }
    consenting: dict[str, set[int]] = {
        channel: set(
            Member.objects.filter(
                Q(pk__in=member_ids) & ~Q(**{f"{CHANNEL_CONSENT[channel]}__isnull": True})
            ).values_list("pk", flat=True)
        )
        for channel in SENDERS
    }
    copies = []
    for message in messages:
        for channel in template_channels(message.template):
            if message.channel != Message.Channel.EMAIL or channel not in SENDERS:
                continue
            if message.member_id not in reachable[channel]:
                continue
            marketing = message.kind == Message.Kind.MARKETING
            if marketing and message.member_id not in consenting[channel]:
                continue
            copies.append(
                Message(
                    member_id=message.member_id,
                    template=message.template,
                    context=message.context,
                    channel=channel,
                    kind=message.kind,
                    key=f"{message.key}:{channel}" if message.key else "",
                    language=message.language,
                )
            )
    return copies


def sms_status_record(*, message_id: str, status: str, error_code: str) -> bool:
    """What the SMS provider reported of a text it took: one it could not
    deliver (`failed`, `undelivered`) is marked failed with the provider's error
    code. Returns whether a message changed."""
    if status not in ("failed", "undelivered") or not message_id.isdigit():
        return False
    return bool(
        Message.objects.filter(
            pk=int(message_id), channel=Message.Channel.SMS, state=Message.State.SENT
        ).update(state=Message.State.FAILED, reason=f"sms_{status}: {error_code}"[:300])
    )
