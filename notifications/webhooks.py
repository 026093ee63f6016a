"""Outgoing webhooks (Standard Webhooks): endpoints hear about the events they
chose; each event is queued as one delivery per endpoint in the transaction that
caused it and POSTed after it commits by the outbox's sender.

A delivery is signed: headers `webhook-id`, `webhook-timestamp` and
`webhook-signature` ("v1," + base64 HMAC-SHA256 of "id.timestamp.body" with the
secret's bytes), by the `standardwebhooks` library. A 2xx answer delivers it; a
5xx, a 429, a time-out or a refused connection is retried with backoff until
WEBHOOK_RETRY_HOURS after the event; any other answer fails it at once. Endpoints
on loopback, private or link-local addresses are refused, when added and again
when delivering (a name may come to resolve elsewhere), unless
WEBHOOKS_ALLOW_PRIVATE is set.
"""

import base64
import datetime as dt
import ipaddress
import json
import secrets
import socket
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import structlog
from django.conf import settings
from django.utils import timezone
from prometheus_client import Counter as MetricCounter
from standardwebhooks.webhooks import Webhook

from .claims import rows_claim
from .models import WebhookDelivery, WebhookEndpoint

EVENTS = (
    "member.enrolled",
    "tier.changed",
    "points.expiring",
    "redemption.created",
    "coupon.issued",
    "member.sanctioned",
)
TIMEOUT_SECONDS = 10
BACKOFF = dt.timedelta(minutes=1)
BACKOFF_MAX = dt.timedelta(hours=2)
LEASE = dt.timedelta(minutes=5)
BATCH = 50

log = structlog.get_logger(__name__)

OUTCOMES = MetricCounter(
    "loyalty_webhook_deliveries",
    "Webhook delivery attempts, by event and outcome.",
    ["event", "outcome"],
)


class WebhookError(ValueError):
    """An endpoint that cannot be added: its `code` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _public_address(host: str) -> bool:
    """Whether every address `host` resolves to is a public one."""
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if (
            address.is_loopback
            or address.is_private
            or address.is_link_local
            or address.is_reserved
            or address.is_multicast
            or address.is_unspecified
        ):
            return False
    return True


def webhook_url_check(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookError("invalid_url", "The URL must be http:// or https:// with a host.")
    if not settings.WEBHOOKS_ALLOW_PRIVATE and not _public_address(parts.hostname):
        raise WebhookError(
            "private_address",
            "The URL points at a loopback, private or link-local address (or does not "
            "resolve); set WEBHOOKS_ALLOW_PRIVATE to allow it.",
        )


def webhook_secret_new() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def webhook_endpoint_add(
    *, url: str, events: list[str], description: str = ""
) -> tuple[WebhookEndpoint, str]:
    """Add an endpoint; returns it and its secret (`whsec_` + base64), which
    the receiver verifies signatures with."""
    unknown = sorted(set(events) - set(EVENTS))
    if not events or unknown:
        raise WebhookError(
            "invalid_events", f"Events must be some of {', '.join(EVENTS)}; not {unknown}."
        )
    webhook_url_check(url)
    secret = webhook_secret_new()
    endpoint = WebhookEndpoint.objects.create(
        url=url, events=sorted(set(events)), secret=secret, description=description
    )
    return endpoint, secret


def webhook_listened(event: str) -> list[WebhookEndpoint]:
    """The active endpoints that hear `event` (a handful: read at each event)."""
    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    return [e for e in WebhookEndpoint.objects.filter(active=True) if event in e.events]


def webhook_events_queue(*, event: str, payloads: list[dict[str, Any]]) -> int:
    """Queue one `event` per payload for every active endpoint that hears it, in
    the caller's transaction; sent once it commits. Returns how many deliveries."""
    endpoints = webhook_listened(event)
    if not endpoints or not payloads:
        return 0
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            endpoint=endpoint, event_id=f"msg_{uuid.uuid4().hex}", event=event, payload=payload
        )
        for payload in payloads
        for endpoint in endpoints
    )
    from .services import outbox_send_after_commit  # the outbox's sender sends both

    outbox_send_after_commit()
    return len(endpoints) * len(payloads)


def _claim(now: dt.datetime) -> list[WebhookDelivery]:
    due = WebhookDelivery.objects.filter(
        state=WebhookDelivery.State.QUEUED, next_attempt_at__lte=now
    )
    return list(rows_claim(due, now=now, lease=LEASE, batch=BATCH).select_related("endpoint"))


def webhook_body(delivery: WebhookDelivery) -> str:
    return json.dumps(
        {
            "type": delivery.event,
            "timestamp": delivery.created_at.isoformat(),
            "data": delivery.payload,
        },
        separators=(",", ":"),
    )


def _post(delivery: WebhookDelivery, now: dt.datetime) -> tuple[int | None, str]:
    """POST the signed delivery: (HTTP status or None, error text)."""
    endpoint = delivery.endpoint
    try:
        webhook_url_check(endpoint.url)
    except WebhookError as refused:
        return None, f"refused: {refused}"
    body = webhook_body(delivery)
    signature = Webhook(endpoint.secret).sign(delivery.event_id, now, body)
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        endpoint.url,
        data=body.encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": f"{settings.PROGRAM_NAME} webhooks",
            "webhook-id": delivery.event_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signature,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return response.status, ""
    except urllib.error.HTTPError as answer:
        return answer.code, ""
    except (OSError, TimeoutError) as error:
        return None, f"{type(error).__name__}: {error}"[:300]


def _retryable(status: int | None) -> bool:
    return status is None or status == 429 or status >= 500


def _deliver(delivery: WebhookDelivery, now: dt.datetime) -> str:
    started = time.monotonic()
    status, error = _post(delivery, now)
    fields: dict[str, Any] = {
        "response_status": status,
        "response_ms": int((time.monotonic() - started) * 1000),
        "error": error,
    }
    outcome: str
    if status is not None and 200 <= status < 300:
        outcome = WebhookDelivery.State.DELIVERED
        fields.update(state=outcome, delivered_at=timezone.now())
    elif _retryable(status) and not error.startswith("refused"):
        retry_at = now + min(BACKOFF * 2 ** (delivery.attempts - 1), BACKOFF_MAX)
        if retry_at <= delivery.created_at + dt.timedelta(hours=settings.WEBHOOK_RETRY_HOURS):
            outcome = "retrying"
            fields.update(next_attempt_at=retry_at)
        else:
            outcome = WebhookDelivery.State.FAILED
            fields.update(state=outcome)
    else:
        outcome = WebhookDelivery.State.FAILED
        fields.update(state=outcome)
    WebhookDelivery.objects.filter(pk=delivery.pk, claim=delivery.claim).update(claim="", **fields)
    OUTCOMES.labels(delivery.event, outcome).inc()
    if outcome != WebhookDelivery.State.DELIVERED:
        log.warning(
            "webhook_not_delivered",
            delivery_id=delivery.pk,
            endpoint=delivery.endpoint.url,
            status=status,
            error=error,
            outcome=outcome,
        )
    return f"webhooks_{outcome}"


def webhooks_send_due(*, now: dt.datetime) -> Counter[str]:
    counts: Counter[str] = Counter()
    while batch := _claim(now):
        for delivery in batch:
            counts[_deliver(delivery, now)] += 1
    return counts


def webhook_redeliver(*, ids: list[int]) -> int:
    """Staff's redelivery: one more attempt now (retried after it only within
    WEBHOOK_RETRY_HOURS of the event)."""
    count = WebhookDelivery.objects.filter(pk__in=ids).update(
        state=WebhookDelivery.State.QUEUED, next_attempt_at=timezone.now(), claim=""
    )
    if count:
        from .services import outbox_send_after_commit

        outbox_send_after_commit()
    return count
