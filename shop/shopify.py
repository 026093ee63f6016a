"""Shopify's webhook payloads (orders/create, orders/paid, orders/cancelled,
refunds/create, products/create, products/update) read into plain
dataclasses, amounts in minor units of the shop's currency.

Only what the programme uses is read; everything else in the payload is ignored.
Shopify writes money as strings ("89.99"), except a refund line's `subtotal`, a JSON
number: the payload is parsed with `parse_float=Decimal` (see `shopify_json_load`)
so no amount ever passes through a float, and the `*_set.shop_money` string is
preferred where Shopify gives one.
"""

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .errors import DomainError
from .money import MAX_MINOR_UNITS, MoneyError, currency_exponent, parse_amount
from .schemas import moment_in_range

# No line of a real order has more; more would overflow what is stored.
MAX_QUANTITY = 1_000_000

TOPIC_ORDERS_CREATE = "orders/create"
TOPIC_ORDERS_PAID = "orders/paid"
TOPIC_ORDERS_CANCELLED = "orders/cancelled"
TOPIC_REFUNDS_CREATE = "refunds/create"
TOPIC_PRODUCTS_CREATE = "products/create"
TOPIC_PRODUCTS_UPDATE = "products/update"


class ShopifyPayloadError(DomainError):
    """The payload is not what Shopify sends. `field` is the path of the bad value
    ("line_items.0.price")."""

    def __init__(self, field: str, message: str, *, code: str = "invalid") -> None:
        super().__init__(message, fields={field: message}, code=code)
        self.field = field


@dataclass(frozen=True)
class ShopifyCustomer:
    id: str | None
    email: str | None
    first_name: str
    last_name: str
    verified_email: bool  # Shopify has verified the address


@dataclass(frozen=True)
class ShopifyLineItem:
    id: str | None
    sku: str
    category: str  # the product type when the payload has one; Shopify's order lines do not
    product_id: str | None
    vendor: str
    quantity: int
    price_minor: int  # per unit, before discounts
    discount_minor: int  # all discounts allocated to the line
    amount_minor: int  # price x quantity - discounts, never below 0
    gift_card: bool


@dataclass(frozen=True)
class ShopifyOrder:
    id: str
    email: str | None  # the customer's, else the order's contact e-mail
    customer: ShopifyCustomer | None  # None for a guest checkout
    currency: str
    created_at: dt.datetime
    line_items: tuple[ShopifyLineItem, ...]
    total_discounts_minor: int
    shipping_minor: int
    test: bool
    financial_status: str  # "paid", "pending", "authorized", "refunded", ...

    @property
    def total_minor(self) -> int:
        """The net the points are based on: lines after discounts, no shipping."""
        return sum(line.amount_minor for line in self.line_items)


@dataclass(frozen=True)
class ShopifyRefundLineItem:
    line_item_id: str | None
    sku: str
    quantity: int
    price_minor: int  # the order line's unit price
    subtotal_minor: int  # what was refunded for the line, after its discounts, before tax


@dataclass(frozen=True)
class ShopifyTransaction:
    kind: str
    status: str
    amount_minor: int


@dataclass(frozen=True)
class ShopifyRefund:
    id: str
    order_id: str
    created_at: dt.datetime | None
    currency: str | None  # None only when the refund moves no money
    refund_line_items: tuple[ShopifyRefundLineItem, ...]
    transactions: tuple[ShopifyTransaction, ...]

    @property
    def lines_minor(self) -> int:
        return sum(line.subtotal_minor for line in self.refund_line_items)

    @property
    def transactions_minor(self) -> int:
        """Money actually paid back: successful refund transactions."""
        return sum(
            t.amount_minor
            for t in self.transactions
            if t.kind == "refund" and t.status == "success"
        )

    @property
    def amount_minor(self) -> int:
        """The refunded part of the order's net: the refunded lines' subtotals, or,
        for a refund of no lines (an amount typed in by staff), the money paid back."""
        return self.lines_minor if self.refund_line_items else self.transactions_minor


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number")


def shopify_json_load(body: bytes) -> Any:
    """The webhook body as JSON, numbers with a fraction as Decimal (never float)."""
    return json.loads(body, parse_float=Decimal, parse_constant=_reject_constant)


def _object(data: object, field: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ShopifyPayloadError(field or "body", "must be an object")
    return data


def _list(data: Mapping[str, Any], key: str, field: str) -> list[Any]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ShopifyPayloadError(field, "must be a list")
    return value


def _optional_id(value: object, field: str) -> str | None:
    if value is None:
        return None
    return _id(value, field)


def _storable(value: str) -> bool:
    """Text the database can store: no NUL, no lone surrogate."""
    if "\x00" in value:
        return False
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def _id(value: object, field: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and 0 < len(value) <= 100 and _storable(value):
        return value
    raise ShopifyPayloadError(field, "must be an id")


def _text(value: object, field: str, *, max_length: int = 100) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or not _storable(value):
        raise ShopifyPayloadError(field, "must be a string")
    return value[:max_length]


def _email(value: object, field: str) -> str | None:
    text = _text(value, field, max_length=254)
    return text or None


def _quantity(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_QUANTITY:
        raise ShopifyPayloadError(field, f"must be a whole number from 0 to {MAX_QUANTITY}")
    return value


def _datetime(value: object, field: str) -> dt.datetime:
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None and moment_in_range(parsed):
            return parsed
    raise ShopifyPayloadError(field, "must be a date and time with its UTC offset, 1970 to 9998")


def _currency(value: object, field: str) -> str:
    if not isinstance(value, str) or len(value) != 3:
        raise ShopifyPayloadError(field, "must be an ISO 4217 currency code")
    try:
        currency_exponent(value)
    except MoneyError as exc:
        raise ShopifyPayloadError(field, exc.message, code=exc.code) from None
    return value


def _money(value: object, currency: str, field: str) -> int:
    if isinstance(value, Decimal):
        text = format(value, "f")
    elif isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    elif isinstance(value, str):
        text = value
    else:
        raise ShopifyPayloadError(field, "must be an amount")
    try:
        return parse_amount(text, currency, allow_zero_padding=True)
    except MoneyError as exc:
        raise ShopifyPayloadError(field, exc.message, code=exc.code) from None


def _shop_money(money_set: object) -> tuple[object, object] | None:
    """(amount, currency_code) of a Shopify `*_set` object's shop_money, if any."""
    if not isinstance(money_set, Mapping):
        return None
    shop_money = money_set.get("shop_money")
    if not isinstance(shop_money, Mapping) or "amount" not in shop_money:
        return None
    return shop_money["amount"], shop_money.get("currency_code")


def _line_item(data: object, currency: str, field: str) -> ShopifyLineItem:
    line = _object(data, field)
    quantity = _quantity(line.get("quantity"), f"{field}.quantity")
    price = _money(line.get("price"), currency, f"{field}.price")
    allocations = _list(line, "discount_allocations", f"{field}.discount_allocations")
    if allocations:
        discount = sum(
            _money(
                _object(allocation, f"{field}.discount_allocations.{i}").get("amount"),
                currency,
                f"{field}.discount_allocations.{i}.amount",
            )
            for i, allocation in enumerate(allocations)
        )
    else:
        discount = _money(line.get("total_discount", "0"), currency, f"{field}.total_discount")
    if price * quantity > MAX_MINOR_UNITS:
        raise ShopifyPayloadError(f"{field}.quantity", "the line's price times it is too large")
    return ShopifyLineItem(
        id=_optional_id(line.get("id"), f"{field}.id"),
        sku=_text(line.get("sku"), f"{field}.sku"),
        category=_text(line.get("product_type"), f"{field}.product_type"),
        product_id=_optional_id(line.get("product_id"), f"{field}.product_id"),
        vendor=_text(line.get("vendor"), f"{field}.vendor"),
        quantity=quantity,
        price_minor=price,
        discount_minor=discount,
        amount_minor=max(0, price * quantity - discount),
        gift_card=line.get("gift_card") is True,
    )


def _customer(data: object) -> ShopifyCustomer | None:
    if data is None:
        return None
    customer = _object(data, "customer")
    return ShopifyCustomer(
        id=_optional_id(customer.get("id"), "customer.id"),
        email=_email(customer.get("email"), "customer.email"),
        first_name=_text(customer.get("first_name"), "customer.first_name", max_length=150),
        last_name=_text(customer.get("last_name"), "customer.last_name", max_length=150),
        verified_email=customer.get("verified_email") is True,
    )


def shopify_order_parse(data: object) -> ShopifyOrder:
    """An order payload (orders/create, orders/paid, orders/cancelled). Lines with
    quantity 0 (nothing bought) are left out."""
    order = _object(data, "")
    currency = _currency(order.get("currency"), "currency")
    customer = _customer(order.get("customer"))
    lines = [
        _line_item(line, currency, f"line_items.{i}")
        for i, line in enumerate(_list(order, "line_items", "line_items"))
    ]
    shipping = _shop_money(order.get("total_shipping_price_set"))
    email = (customer.email if customer else None) or _email(order.get("email"), "email")
    return ShopifyOrder(
        id=_id(order.get("id"), "id"),
        email=email or _email(order.get("contact_email"), "contact_email"),
        customer=customer,
        currency=currency,
        created_at=_datetime(order.get("created_at"), "created_at"),
        line_items=tuple(line for line in lines if line.quantity > 0),
        total_discounts_minor=_money(
            order.get("total_discounts", "0"), currency, "total_discounts"
        ),
        shipping_minor=(
            _money(shipping[0], currency, "total_shipping_price_set.shop_money.amount")
            if shipping
            else 0
        ),
        test=order.get("test") is True,
        financial_status=_text(order.get("financial_status"), "financial_status", max_length=30),
    )


def _refund_currency(refund: Mapping[str, Any]) -> str | None:
    """The shop's currency, from wherever the refund payload states it."""
    for i, line in enumerate(_list(refund, "refund_line_items", "refund_line_items")):
        money = _shop_money(_object(line, f"refund_line_items.{i}").get("subtotal_set"))
        if money and money[1]:
            return _currency(money[1], f"refund_line_items.{i}.subtotal_set")
    for i, transaction in enumerate(_list(refund, "transactions", "transactions")):
        code = _object(transaction, f"transactions.{i}").get("currency")
        if code:
            return _currency(code, f"transactions.{i}.currency")
    return None


def _refund_line_item(data: object, currency: str | None, field: str) -> ShopifyRefundLineItem:
    line = _object(data, field)
    if currency is None:
        raise ShopifyPayloadError(field, "the refund does not say its currency")
    item = _object(line.get("line_item") or {}, f"{field}.line_item")
    subtotal_set = _shop_money(line.get("subtotal_set"))
    subtotal = subtotal_set[0] if subtotal_set else line.get("subtotal")
    return ShopifyRefundLineItem(
        line_item_id=_optional_id(line.get("line_item_id"), f"{field}.line_item_id"),
        sku=_text(item.get("sku"), f"{field}.line_item.sku"),
        quantity=_quantity(line.get("quantity"), f"{field}.quantity"),
        price_minor=_money(item.get("price", "0"), currency, f"{field}.line_item.price"),
        subtotal_minor=_money(subtotal, currency, f"{field}.subtotal"),
    )


def _transaction(data: object, currency: str | None, field: str) -> ShopifyTransaction:
    transaction = _object(data, field)
    code = transaction.get("currency") or currency
    if code is None:
        raise ShopifyPayloadError(field, "the refund does not say its currency")
    return ShopifyTransaction(
        kind=_text(transaction.get("kind"), f"{field}.kind"),
        status=_text(transaction.get("status"), f"{field}.status"),
        amount_minor=_money(
            transaction.get("amount"), _currency(code, f"{field}.currency"), f"{field}.amount"
        ),
    )


def shopify_refund_parse(data: object) -> ShopifyRefund:
    """A refunds/create payload."""
    refund = _object(data, "")
    currency = _refund_currency(refund)
    created_at = refund.get("created_at")
    return ShopifyRefund(
        id=_id(refund.get("id"), "id"),
        order_id=_id(refund.get("order_id"), "order_id"),
        created_at=_datetime(created_at, "created_at") if created_at is not None else None,
        currency=currency,
        refund_line_items=tuple(
            _refund_line_item(line, currency, f"refund_line_items.{i}")
            for i, line in enumerate(_list(refund, "refund_line_items", "refund_line_items"))
        ),
        transactions=tuple(
            _transaction(transaction, currency, f"transactions.{i}")
            for i, transaction in enumerate(_list(refund, "transactions", "transactions"))
        ),
    )


@dataclass(frozen=True)
class ShopifyVariant:
    sku: str
    title: str
    price_minor: int


@dataclass(frozen=True)
class ShopifyProduct:
    id: str
    title: str
    product_type: str
    tags: tuple[str, ...]
    active: bool  # status "active" (not "draft" or "archived")
    updated_at: dt.datetime | None
    variants: tuple[ShopifyVariant, ...]


def shopify_product_parse(data: object, *, currency: str) -> ShopifyProduct:
    """A products/create or products/update payload. Prices are in the shop's
    currency, which the payload does not state: `currency` says it. Variants
    without a SKU are left out (an order line names a product by SKU)."""
    product = _object(data, "")
    tags = _text(product.get("tags"), "tags", max_length=2000)
    variants = []
    for i, item in enumerate(_list(product, "variants", "variants")):
        variant = _object(item, f"variants.{i}")
        sku = _text(variant.get("sku"), f"variants.{i}.sku")
        if not sku:
            continue
        variants.append(
            ShopifyVariant(
                sku=sku,
                title=_text(variant.get("title"), f"variants.{i}.title"),
                price_minor=_money(variant.get("price"), currency, f"variants.{i}.price"),
            )
        )
    updated_at = product.get("updated_at")
    status = _text(product.get("status"), "status", max_length=30) or "active"
    return ShopifyProduct(
        id=_id(product.get("id"), "id"),
        title=_text(product.get("title"), "title", max_length=200),
        product_type=_text(product.get("product_type"), "product_type"),
        tags=tuple(tag.strip()[:50] for tag in tags.split(",") if tag.strip()),
        active=status == "active",
        updated_at=_datetime(updated_at, "updated_at") if updated_at is not None else None,
        variants=tuple(variants),
    )
