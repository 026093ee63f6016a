"""Shopify's orders and refunds, fed to the same services as the shop API. The
shop app verifies and deduplicates the webhooks; these handlers run inside
its transaction (see shop/webhooks.py)."""

import dataclasses

from shop.idempotency import fingerprint
from shop.models import Order, ShopifyShop
from shop.shopify import ShopifyOrder, ShopifyRefund

from .services import CustomerInput, LineInput, OrderInput, order_record, refund_record


def order_from_shopify(*, store: ShopifyShop, payload: ShopifyOrder) -> None:
    """A paid Shopify order earns like an order reported through the API. A guest
    checkout with no e-mail names nobody to credit, and is only recorded as
    delivered."""
    customer_id = payload.customer.id if payload.customer else None
    if not customer_id and not payload.email:
        return
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
                external_id=customer_id,
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


def refund_from_shopify(*, store: ShopifyShop, payload: ShopifyRefund) -> None:
    """A refund takes back the points of its order, in proportion. A refund of an
    order the programme never credited (a guest's) changes nothing."""
    if not Order.objects.filter(shop=store.shop, order_id=payload.order_id).exists():
        return
    refund_record(
        shop=store.shop,
        order_id=payload.order_id,
        refund_id=payload.id,
        amount_minor=payload.amount_minor,
        lines=[
            LineInput(
                sku=line.sku, category="", quantity=line.quantity, amount_minor=line.subtotal_minor
            )
            for line in payload.refund_line_items
        ],
        fingerprint=fingerprint(dataclasses.asdict(payload)),
        shopify_shop=store,
    )
