"""Shopify webhooks: POST /webhooks/shopify/<topic>, for the topics in TOPIC_PATHS
(orders-create, orders-paid, orders-cancelled, refunds-create, products-create,
products-update; the shop app applies the products' itself).

Each request is verified (X-Shopify-Hmac-Sha256 over the raw body, with a connected
store's secret), refused when X-Shopify-Triggered-At is more than a day old (a
replay), read into a dataclass (shop/shopify.py) and handed to the handler
registered for its topic. Every delivery taken in is recorded once per
X-Shopify-Event-Id (a repeat is answered 200 and does nothing), with what became of
it:

- accepted: the handler applied it;
- ignored: the handler applied nothing and said why (a test order, an unpaid one);
- refused: the event can never be applied (a frozen member, another currency, a
  refund over what is left, a payload that is not Shopify's). It is answered 200
  all the same, so that Shopify does not retry it for two days and then drop the
  subscription; staff see it in the admin.

A handler raises `RetryLater` when the event may apply later (a refund before its
order): the answer is 409, nothing is recorded, and Shopify sends it again. Any
other error answers 500 and records nothing, so Shopify retries it too.

The shop app does not know what an order earns; the layer that does registers
its handlers when Django starts, in its AppConfig.ready():

    register_shopify_handler(TOPIC_ORDERS_PAID, order_paid_from_shopify)

where `order_paid_from_shopify(*, store: ShopifyShop, payload: ShopifyOrder) -> str`
(a refund handler gets `payload: ShopifyRefund`) returns "" when it applied the
event, or the reason it applied nothing ("test", "unpaid", ...).
"""

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from .errors import DomainError, RetryLater, error_body, http_status, validation_error_fields
from .models import WebhookDelivery
from .services import shopify_shop_authenticate, webhook_delivery_record
from .shopify import (
    TOPIC_ORDERS_CANCELLED,
    TOPIC_ORDERS_CREATE,
    TOPIC_ORDERS_PAID,
    TOPIC_PRODUCTS_CREATE,
    TOPIC_PRODUCTS_UPDATE,
    TOPIC_REFUNDS_CREATE,
    ShopifyOrder,
    ShopifyPayloadError,
    ShopifyRefund,
    shopify_json_load,
    shopify_order_parse,
    shopify_product_parse,
    shopify_refund_parse,
)


def _product_parse(data: object) -> object:
    return shopify_product_parse(data, currency=settings.PROGRAM_CURRENCY)


ShopifyHandler = Callable[..., str]

_PARSERS: dict[str, Callable[[object], Any]] = {
    TOPIC_ORDERS_CREATE: shopify_order_parse,
    TOPIC_ORDERS_PAID: shopify_order_parse,
    TOPIC_ORDERS_CANCELLED: shopify_order_parse,
    TOPIC_REFUNDS_CREATE: shopify_refund_parse,
    TOPIC_PRODUCTS_CREATE: _product_parse,
    TOPIC_PRODUCTS_UPDATE: _product_parse,
}
# The address of each topic: /webhooks/shopify/<path>.
TOPIC_PATHS = {topic: topic.replace("/", "-") for topic in _PARSERS}
_handlers: dict[str, ShopifyHandler] = {}

MAX_HEADER_LENGTH = 255
# An event triggered longer ago than this is a replay: Shopify's own retries end
# within hours (it gives up after 48).
MAX_EVENT_AGE = dt.timedelta(days=1)


def register_shopify_handler(topic: str, fn: ShopifyHandler) -> None:
    """Have `fn(*, store, payload)` apply each new event of `topic` (one of
    TOPIC_PATHS). Registering again replaces the handler."""
    if topic not in _PARSERS:
        raise ValueError(f"Unknown Shopify topic {topic!r}; known: {sorted(_PARSERS)}")
    _handlers[topic] = fn


def _error(
    status: int, code: str, message: str, fields: dict[str, str] | None = None
) -> JsonResponse:
    return JsonResponse(error_body(code, message, fields), status=status)


def _header(request: HttpRequest, name: str) -> str:
    return request.headers.get(name, "").replace("\x00", "").strip()[:MAX_HEADER_LENGTH]


def _too_old(triggered_at: str) -> str:
    """Why X-Shopify-Triggered-At refuses the request ("" when it does not). An
    absent header is not a refusal: not every Shopify version sends it."""
    if not triggered_at:
        return ""
    try:
        moment = dt.datetime.fromisoformat(triggered_at.replace("Z", "+00:00"))
    except ValueError:
        return "X-Shopify-Triggered-At is not a date and time."
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    if moment < timezone.now() - MAX_EVENT_AGE:
        return "The event was triggered more than a day ago."
    return ""


def _order_id(payload: object) -> str:
    if isinstance(payload, ShopifyOrder):
        return payload.id
    if isinstance(payload, ShopifyRefund):
        return payload.order_id
    return ""


def _shopify_webhook(request: HttpRequest, *, topic: str) -> HttpResponse:
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

    if stale := _too_old(_header(request, "X-Shopify-Triggered-At")):
        return _error(400, "too_old", stale, {"X-Shopify-Triggered-At": stale})
    sent_topic = _header(request, "X-Shopify-Topic")
    if sent_topic and sent_topic != topic:
        message = f"This address takes {topic} webhooks, not {sent_topic}."
        return _error(400, "invalid", message, {"X-Shopify-Topic": message})
    webhook_id = _header(request, "X-Shopify-Webhook-Id")
    event_id = _header(request, "X-Shopify-Event-Id") or webhook_id
    if not event_id:
        message = "X-Shopify-Event-Id is missing."
        return _error(400, "invalid", message, {"X-Shopify-Event-Id": message})

    delivery = WebhookDelivery(store=store, topic=topic, event_id=event_id, webhook_id=webhook_id)
    try:
        payload = _PARSERS[topic](shopify_json_load(body))
    except ShopifyPayloadError as exc:
        return _refuse(delivery, exc.code, f"Not a Shopify {topic} payload.", exc.fields)
    except (ValueError, RecursionError):
        return _refuse(delivery, "invalid", "The body is not JSON.", {"body": "Not valid JSON."})
    delivery.order_id = _order_id(payload)
    return _apply(delivery, payload)


def _apply(delivery: WebhookDelivery, payload: object) -> HttpResponse:
    try:
        with transaction.atomic():
            if not webhook_delivery_record(delivery=delivery):
                return JsonResponse({"status": "duplicate"})
            handler = _handlers.get(delivery.topic)
            reason = handler(store=delivery.store, payload=payload) if handler else ""
            if reason:
                WebhookDelivery.objects.filter(pk=delivery.pk).update(
                    status=WebhookDelivery.Status.IGNORED, reason=reason
                )
    except RetryLater as exc:
        return _error(http_status(exc.code), exc.code, exc.message, exc.fields)
    except DomainError as exc:
        return _refuse(delivery, exc.code, exc.message, exc.fields)
    except ValidationError as exc:
        return _refuse(delivery, "invalid", "The event was refused.", validation_error_fields(exc))
    return JsonResponse({"status": "ignored" if reason else "accepted"})


def _refuse(
    delivery: WebhookDelivery, code: str, message: str, fields: dict[str, str]
) -> HttpResponse:
    """Keep the delivery as refused and answer 200, so Shopify stops sending it."""
    delivery.pk = None
    delivery.status = WebhookDelivery.Status.REFUSED
    delivery.reason = code
    delivery.message = " ".join([message, *fields.values()])[:500]
    if not webhook_delivery_record(delivery=delivery):
        return JsonResponse({"status": "duplicate"})
    return JsonResponse({"status": "refused", **error_body(code, message, fields)})


@csrf_exempt
def shopify_webhook(request: HttpRequest, topic: str) -> HttpResponse:
    return _shopify_webhook(request, topic=topic)
