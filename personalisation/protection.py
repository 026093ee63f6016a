"""The nightly `price_protection` job, a paid-plan benefit: when an active
product's price has dropped below what a member paid for it, within
PRICE_PROTECTION_DAYS of their order, the member gets a coupon for the
difference (per unit paid less the new price, times the quantity), once per
order line, and an e-mail with its code.

For the night `as_of`: orders placed in the PRICE_PROTECTION_DAYS before its
midnight and not wholly refunded, by members whose paid plan runs at that
midnight; the product's price at midnight (its last price change before it),
that change made after the order, and the new price below the unit price paid
(the line's amount after discounts over its quantity). A rise, or a drop that
leaves the price at or above what was paid, gives nothing. One query per chunk
finds the lines; each coupon is issued through rewards' coupon service with its
`PriceProtection` row (unique per line) in one savepoint, so a second run, or two
at once, issues nothing twice.
"""

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from batch.services import program_midnight
from members.models import Member
from notifications.registry import Context
from notifications.services import message_build, messages_queue
from points.expiry import last_usable_day
from rewards.models import Coupon, CouponKind
from rewards.services.coupons import CouponSpec, coupon_create, coupon_expiry
from shop.models import Order, OrderLine, Product, ProductPrice
from shop.money import format_program_money
from tiers.models import Subscription

from .models import PriceProtection

PRICE_PROTECTED = "personalisation.price_protected"
ORDER = Order._meta.db_table
LINE = OrderLine._meta.db_table
PRODUCT = Product._meta.db_table
PRICE = ProductPrice._meta.db_table
SUBSCRIPTION = Subscription._meta.db_table
PROTECTION = PriceProtection._meta.db_table


def _due(as_of: dt.date, first_id: int, last_id: int) -> list[tuple]:
    """(line id, member id, sku, quantity, amount paid, price now) of the lines
    due a coupon, not yet given one."""
    midnight = program_midnight(as_of)
    since = program_midnight(as_of - dt.timedelta(days=settings.PRICE_PROTECTION_DAYS))
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT l.id, o.member_id, l.sku, l.quantity, l.amount_minor, now.price_minor
            FROM {ORDER} o
            JOIN {LINE} l ON l.order_id = o.id
            JOIN {PRODUCT} p ON p.sku = l.sku AND l.sku <> '' AND p.active
            JOIN {PRICE} now ON now.product_id = p.id AND now.id = (
                SELECT pp.id FROM {PRICE} pp
                WHERE pp.product_id = p.id AND pp.changed_at < %s
                ORDER BY pp.changed_at DESC, pp.id DESC LIMIT 1)
            WHERE o.member_id BETWEEN %s AND %s
                AND o.placed_at >= %s AND o.placed_at < %s
                AND o.total_minor > o.refunded_minor
                AND now.changed_at > o.placed_at
                AND now.price_minor * l.quantity < l.amount_minor
                AND EXISTS (SELECT 1 FROM {SUBSCRIPTION} s WHERE s.member_id = o.member_id
                    AND s.status = 'active' AND s.starts_at <= %s AND s.ends_at > %s)
                AND NOT EXISTS (SELECT 1 FROM {PROTECTION} g WHERE g.line_id = l.id)
            ORDER BY l.id
            """,
            [
                adapt(midnight),
                first_id,
                last_id,
                adapt(since),
                adapt(midnight),
                adapt(midnight),
                adapt(midnight),
            ],
        )
        return cursor.fetchall()


def price_protection(as_of: dt.date, first_id: int, last_id: int) -> dict[str, int]:
    """Give the chunk's due lines their coupons (see the module's docstring)."""
    due = _due(as_of, first_id, last_id)
    members = Member.objects.in_bulk({row[1] for row in due})
    issued = 0
    expires_at = coupon_expiry(
        last_day=as_of + dt.timedelta(days=settings.PRICE_PROTECTION_COUPON_DAYS - 1)
    )
    for line_id, member_id, sku, quantity, amount_minor, price_minor in due:
        # Per unit paid, rounded down, less the new price: never more than was paid.
        difference = (amount_minor // quantity - price_minor) * quantity
        if difference <= 0:
            continue
        try:
            with transaction.atomic():
                coupon = coupon_create(
                    spec=CouponSpec(
                        kind=CouponKind.AMOUNT,
                        amount_minor=difference,
                        uses_allowed=1,
                        expires_at=expires_at,
                    ),
                    source=Coupon.Source.PRICE_PROTECTION,
                    source_ref=f"line:{line_id}",
                    owner=members[member_id],
                )
                PriceProtection.objects.create(
                    line_id=line_id,
                    member_id=member_id,
                    sku=sku,
                    paid_unit_minor=amount_minor // quantity,
                    price_minor=price_minor,
                    amount_minor=difference,
                    coupon=coupon,
                )
        except IntegrityError:
            continue  # another run gave this line its coupon
        messages_queue(
            messages=[
                message_build(
                    member_id=member_id,
                    template=PRICE_PROTECTED,
                    context={
                        "sku": sku,
                        "amount_minor": difference,
                        "code": coupon.code,
                        "last_day": last_usable_day(expires_at).isoformat(),
                    },
                    key=f"price-protected:{line_id}",
                )
            ]
        )
        issued += 1
    return {"price_protection_coupons": issued}


def price_protected_contexts(stored: list[Context]) -> list[Context]:
    """The stored contexts with the product's name (one query for all) and the
    amount as money."""
    names = dict(
        Product.objects.filter(sku__in={each["sku"] for each in stored}).values_list("sku", "name")
    )
    return [
        {
            **each,
            "product": names.get(each["sku"], each["sku"]),
            "amount": format_program_money(each["amount_minor"]),
            "last_day": dt.date.fromisoformat(each["last_day"]),
        }
        for each in stored
    ]
