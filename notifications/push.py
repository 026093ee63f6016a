"""Web Push (RFC 8030) with VAPID (RFC 8292), through `pywebpush`: a member's
browser subscribes on the profile page (static/js/push.js, with the service
worker static/js/service-worker.js served at /service-worker.js), and each push
is encrypted for the subscription (aes128gcm, RFC 8291) and signed with the
VAPID key pair of VAPID_PRIVATE_KEY / VAPID_PUBLIC_KEY.

A push service that answers 404 or 410 has forgotten the subscription: it is
deleted. One that answers 429 or 5xx, or cannot be reached, raises
PushUnavailable (the outbox tries again later) unless another of the member's
browsers took the message."""

import base64
import json
from typing import Any

import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from pywebpush import WebPushException, webpush
from requests import RequestException

from members.models import Member

from .models import PushSubscription

log = structlog.get_logger(__name__)

TIMEOUT_SECONDS = 10
TTL_SECONDS = 24 * 60 * 60  # a push service keeps an undelivered message a day


class PushUnavailable(Exception):
    """No browser took the message, for a reason that may pass."""


def push_enabled() -> bool:
    return bool(settings.VAPID_PUBLIC_KEY and settings.VAPID_PRIVATE_KEY)


def vapid_keys_generate() -> tuple[str, str]:
    """A new VAPID key pair (P-256) as (public, private): the public key as the
    browser's `applicationServerKey` wants it (base64url of the uncompressed
    point), the private key as its raw 32 bytes, base64url."""
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    private = key.private_numbers().private_value.to_bytes(32, "big")
    return _b64(public), _b64(private)


def _b64decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        return b""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def push_subscription_save(
    *, member: Member, endpoint: str, p256dh: str, auth: str, user_agent: str = ""
) -> PushSubscription:
    """Keep a browser's subscription for the member (the same endpoint again
    updates its keys; one another member had moves to this one: the browser is
    signed in as this member now)."""
    if not endpoint.startswith("https://") or len(endpoint) > 1000:
        raise ValidationError(_("Not a push subscription."), code="invalid")
    # The browser's P-256 public key (an uncompressed point) and its 16-byte secret.
    if len(_b64decode(p256dh)) != 65 or len(_b64decode(auth)) != 16:
        raise ValidationError(_("Not a push subscription."), code="invalid")
    fields = {"member": member, "p256dh": p256dh, "auth": auth, "user_agent": user_agent[:300]}
    try:
        with transaction.atomic():
            subscription, _created = PushSubscription.objects.update_or_create(
                endpoint=endpoint, defaults=fields
            )
    except IntegrityError:  # saved at the same moment by another request
        subscription = PushSubscription.objects.get(endpoint=endpoint)
    return subscription


def push_subscription_delete(*, member: Member, endpoint: str) -> bool:
    deleted, _kinds = PushSubscription.objects.filter(member=member, endpoint=endpoint).delete()
    return bool(deleted)


def push_send(*, subscriptions: list[PushSubscription], payload: dict[str, Any]) -> int:
    """Push `payload` (JSON) to each subscription; returns how many took it.
    Raises PushUnavailable when none did and some may later."""
    data = json.dumps(payload, ensure_ascii=False)
    delivered, retry = 0, []
    for subscription in subscriptions:
        try:
            webpush(
                subscription_info={
                    "endpoint": subscription.endpoint,
                    "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
                },
                data=data,
                vapid_private_key=settings.VAPID_PRIVATE_KEY,
                vapid_claims={"sub": settings.VAPID_SUBJECT},
                ttl=TTL_SECONDS,
                timeout=TIMEOUT_SECONDS,
            )
        except WebPushException as error:
            status = error.response.status_code if error.response is not None else None
            if status in (404, 410):
                subscription.delete()
                log.info("push_subscription_gone", member_id=subscription.member_id)
                continue
            if status is not None and status != 429 and status < 500:
                log.warning("push_refused", status=status, member_id=subscription.member_id)
                continue
            retry.append(f"{status}: {error}"[:150])
        except RequestException as error:
            retry.append(str(error)[:150])
        else:
            delivered += 1
    if not delivered and retry:
        raise PushUnavailable("; ".join(retry))
    return delivered


def push_subscriptions_erase(member: Member) -> None:
    """A member closed their account: no browser gets their pushes any more."""
    PushSubscription.objects.filter(member=member).delete()
