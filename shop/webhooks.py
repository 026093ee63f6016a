"""Shopify webhooks: POST /webhooks/shopify/orders-create and .../refunds-create.

Each request is verified (X-Shopify-Hmac-Sha256 over the raw body, with a connected
store's secret), read into a dataclass (shop/shopify.py) and handed to the
handler registered for its topic. Recording the delivery (deduplicated by
X-Shopify-Event-Id) and the handler's work happen in one transaction: when the
handler fails, nothing is recorded, the answer is not 2xx, and Shopify retries.

The shop app does not know what an order earns; the layer that does registers
its handlers when Django starts, in its AppConfig.ready():

    register_shopify_handler(TOPIC_ORDERS_CREATE, order_from_shopify)

where `order_from_shopify(*, store: ShopifyShop, payload: ShopifyOrder) -> None`
(a refund handler gets `payload: ShopifyRefund`). A handler may raise a DomainError
(or a Django ValidationError: 422) to refuse the event; the answer carries its
status and nothing of the event is kept.
"""

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from .errors import DomainError, error_body, http_status, validation_error_fields
from .models import ShopifyShop
from .services import shopify_shop_authenticate, webhook_delivery_record
from .shopify import (
    TOPIC_ORDERS_CREATE,
    TOPIC_REFUNDS_CREATE,
    ShopifyPayloadError,
    shopify_json_load,
    shopify_order_parse,
    shopify_refund_parse,
)

ShopifyHandler = Callable[..., None]

_PARSERS: dict[str, Callable[[object], Any]] = {
    TOPIC_ORDERS_CREATE: shopify_order_parse,
    TOPIC_REFUNDS_CREATE: shopify_refund_parse,
}
_handlers: dict[str, ShopifyHandler] = {}

MAX_HEADER_LENGTH = 255


def register_shopify_handler(topic: str, fn: ShopifyHandler) -> None:
    """Have `fn(*, store, payload)` apply each new event of `topic` (TOPIC_ORDERS_CREATE
    or TOPIC_REFUNDS_CREATE). Registering again replaces the handler."""
    if topic not in _PARSERS:
        raise ValueError(f"Unknown Shopify topic {topic!r}; known: {sorted(_PARSERS)}")
    _handlers[topic] = fn


def _error(
    status: int, code: str, message: str, fields: dict[str, str] | None = None
) -> JsonResponse:
    return JsonResponse(error_body(code, message, fields), status=status)


def _header(request: HttpRequest, name: str) -> str:
    return request.headers.get(name, "").replace("\x00", "").strip()[:MAX_HEADER_LENGTH]


def _shopify_webhook(request: HttpRequest, *, topic: str) -> JsonResponse:
    if request.method != "POST":
        response = _error(405, "method_not_allowed", "Shopify webhooks are POSTed.")
        response["Allow"] = "POST"
        return response

    body = request.body
    store = shopify_shop_authenticate(
        body=body,
        signature=_header(request, "X-Shopify-Hmac-Sha256"),
        domain=_header(request, "X-Shopify-Shop-Domain").lower(),
    )
    if store is None:
        return _error(401, "unauthenticated", "The webhook's signature does not verify.")

    sent_topic = _header(request, "X-Shopify-Topic")
    if sent_topic and sent_topic != topic:
        message = f"This address takes {topic} webhooks, not {sent_topic}."
        return _error(400, "invalid", message, {"X-Shopify-Topic": message})
    webhook_id = _header(request, "X-Shopify-Webhook-Id")
    event_id = _header(request, "X-Shopify-Event-Id") or webhook_id
    if not event_id:
        message = "X-Shopify-Event-Id is missing."
        return _error(400, "invalid", message, {"X-Shopify-Event-Id": message})

    try:
        payload = _PARSERS[topic](shopify_json_load(body))
    except ShopifyPayloadError as exc:
        message = f"Not a Shopify {topic} payload."
        return _error(http_status(exc.code), exc.code, message, exc.fields)
    except (ValueError, RecursionError):
        return _error(400, "invalid", "The body is not JSON.", {"body": "Not valid JSON."})

    return _shopify_event_apply(
        store=store, topic=topic, event_id=event_id, webhook_id=webhook_id, payload=payload
    )


def _shopify_event_apply(
    *, store: ShopifyShop, topic: str, event_id: str, webhook_id: str, payload: object
) -> JsonResponse:
    try:
        with transaction.atomic():
            delivery = webhook_delivery_record(
                store=store, topic=topic, event_id=event_id, webhook_id=webhook_id
            )
            if delivery is None:
                return JsonResponse({"status": "duplicate"})
            handler = _handlers.get(topic)
            if handler is not None:
                handler(store=store, payload=payload)
    except DomainError as exc:
        return _error(http_status(exc.code), exc.code, exc.message, exc.fields)
    except ValidationError as exc:
        return _error(422, "invalid", "The event was refused.", validation_error_fields(exc))
    return JsonResponse({"status": "accepted"})


@csrf_exempt
def shopify_orders_create(request: HttpRequest) -> JsonResponse:
    return _shopify_webhook(request, topic=TOPIC_ORDERS_CREATE)


@csrf_exempt
def shopify_refunds_create(request: HttpRequest) -> JsonResponse:
    return _shopify_webhook(request, topic=TOPIC_REFUNDS_CREATE)
