"""Shopify's order lifecycle, fed to the same services as the shop API. The shop
app verifies and records the webhooks; these handlers run inside its transaction
(see shop/webhooks.py) and return "" when they applied the event, else why not.

- orders/paid earns; orders/create earns only when its `financial_status` is
  `paid` (a store may subscribe to either or both: the second to come finds the
  order recorded and does nothing);
- a test order (`"test": true`) or a guest's without an e-mail earns nothing and is
  recorded only as a delivery, with the reason;
- orders/cancelled takes back what is left of the order's points;
- refunds/create takes back the refunded share; before its order has come it is
  answered 409 so that Shopify sends it again (for an hour: after that the order is
  taken as never coming, and the refund is recorded as ignored).
"""

import dataclasses
import datetime as dt

from django.utils import timezone

from shop.errors import RetryLater
from shop.idempotency import fingerprint
from shop.models import Order, ShopifyShop, WebhookDelivery
from shop.shopify import ShopifyOrder, ShopifyRefund

from .services import (
    CustomerInput,
    LineInput,
    OrderInput,
    cancel_refund_id,
    order_cancel,
    order_record,
    refund_record,
)

# How long a refund waits for its order (Shopify retries over about four hours).
REFUND_WAITS_FOR_ORDER = dt.timedelta(hours=1)
# The reasons an order event earns nothing; a refund of such an order does nothing.
NOT_EARNING = ("test", "guest")


def _order_reason(store: ShopifyShop, payload: ShopifyOrder) -> str:
    if payload.test:
        return "test"
    customer_id = payload.customer.id if payload.customer else None
    if not customer_id and not payload.email:
        return "guest"  # names nobody to credit
    if Order.objects.filter(shop=store.shop, order_id=payload.id).exists():
        return "already_recorded"
    return ""


def order_paid_from_shopify(*, store: ShopifyShop, payload: ShopifyOrder) -> str:
    """A paid Shopify order earns like an order reported through the API."""
    if reason := _order_reason(store, payload):
        return reason
    lines = [
        LineInput(
            sku=line.sku,
            category=line.category,
            quantity=line.quantity,
            amount_minor=line.amount_minor,
        )
        for line in payload.line_items
        if not line.gift_card
    ]
    order_record(
        shop=store.shop,
        data=OrderInput(
            order_id=payload.id,
            customer=CustomerInput(
                external_id=payload.customer.id if payload.customer else None,
                email=payload.email,
                # Shopify's verification is of the customer's own address.
                email_verified=bool(
                    payload.customer and payload.customer.email and payload.customer.verified_email
                ),
            ),
            placed_at=payload.created_at,
            currency=payload.currency,
            total_minor=sum(line.amount_minor for line in lines) + payload.shipping_minor,
            shipping_minor=payload.shipping_minor,
            lines=lines,
        ),
        fingerprint=fingerprint(dataclasses.asdict(payload)),
        shopify_shop=store,
    )
    return ""


def order_created_from_shopify(*, store: ShopifyShop, payload: ShopifyOrder) -> str:
    """orders/create earns only an order already paid; orders/paid follows the others."""
    if payload.financial_status != "paid" and not payload.test:
        return "unpaid"
    return order_paid_from_shopify(store=store, payload=payload)


def order_cancelled_from_shopify(*, store: ShopifyShop, payload: ShopifyOrder) -> str:
    """A cancelled order's points are taken back (what its refunds left)."""
    if not Order.objects.filter(shop=store.shop, order_id=payload.id).exists():
        return "order_not_recorded"  # never earned: a test, a guest's, an unpaid one
    order_cancel(shop=store.shop, order_id=payload.id, shopify_shop=store)
    return ""


def refund_from_shopify(*, store: ShopifyShop, payload: ShopifyRefund) -> str:
    """A refund takes back the points of its order, in proportion. A refund with no
    lines (an amount typed in by staff) may include shipping and tax, which earned
    nothing: it is capped at what is left of the order's net."""
    order = Order.objects.filter(shop=store.shop, order_id=payload.order_id).first()
    if order is None:
        if WebhookDelivery.objects.filter(
            store__shop=store.shop, order_id=payload.order_id, reason__in=NOT_EARNING
        ).exists():
            return "order_not_earning"
        refunded_at = payload.created_at or timezone.now()
        if refunded_at > timezone.now() - REFUND_WAITS_FOR_ORDER:
            raise RetryLater(
                f"Order {payload.order_id} has not arrived yet; send the refund again later.",
                code="order_not_received",
            )
        return "order_never_received"
    if order.refunds.filter(refund_id=cancel_refund_id(order.order_id)).exists():
        return "order_cancelled"  # the cancellation took back all there was
    refund_record(
        shop=store.shop,
        order_id=payload.order_id,
        refund_id=payload.id,
        amount_minor=payload.amount_minor,
        cap_to_order=not payload.refund_line_items,
        lines=[
            LineInput(
                sku=line.sku, category="", quantity=line.quantity, amount_minor=line.subtotal_minor
            )
            for line in payload.refund_line_items
        ],
        fingerprint=fingerprint(dataclasses.asdict(payload)),
        shopify_shop=store,
    )
    return ""
