"""Reads of the shop's side. Functions are `<noun>_<verb>` with keyword-only arguments."""

from members.models import Member

from .models import DEFAULT_SHOP_CODE, Order, Shop
from .money import format_amount


def shop_get(*, code: str) -> Shop | None:
    return Shop.objects.filter(code=code).first()


def shop_default() -> Shop:
    """The default shop, made by a migration: what acts for the programme where no
    shop is named (the SHOPIFY_WEBHOOK_SECRET store, the demo data)."""
    return Shop.objects.get(code=DEFAULT_SHOP_CODE)


def orders_export(*, member: Member) -> list[dict[str, object]]:
    """The member's orders and their lines, for their data export."""
    orders = (
        Order.objects.filter(member=member)
        .select_related("shop")
        .prefetch_related("lines")
        .order_by("placed_at", "id")
    )
    return [
        {
            "shop": order.shop.code,
            "order_id": order.order_id,
            "placed_at": order.placed_at.isoformat(),
            "currency": order.currency,
            "total": format_amount(order.total_minor, order.currency),
            "shipping": format_amount(order.shipping_minor, order.currency),
            "refunded": format_amount(order.refunded_minor, order.currency),
            "lines": [
                {
                    "sku": line.sku,
                    "category": line.category,
                    "quantity": line.quantity,
                    "amount": format_amount(line.amount_minor, order.currency),
                }
                for line in order.lines.all()
            ],
        }
        for order in orders
    ]
