"""A data set with planted structure: members in groups, each group buying from
its own categories (a few products bought together more often), with noise from
the others; products with tags per category."""

import datetime as dt
import random

from batch.services import program_midnight
from shop.models import Order, OrderLine, Product
from shop.selectors import shop_default
from tests.factories import MemberFactory

GROUPS = 4
CATEGORIES_PER_GROUP = 3
PRODUCTS_PER_CATEGORY = 12
NOISE = 0.1


def planted(*, as_of: dt.date, members_per_group: int = 30, seed: int = 7) -> dict:
    """Products and members with 3 to 6 orders each over the 200 days before
    `as_of`; returns {"groups": {member_id: group}, "products": [...]}."""
    rng = random.Random(seed)
    products = []
    by_group: dict[int, list[Product]] = {}
    for group in range(GROUPS):
        for c in range(CATEGORIES_PER_GROUP):
            category = f"cat-{group}-{c}"
            for n in range(PRODUCTS_PER_CATEGORY):
                products.append(
                    Product(
                        sku=f"P{group}{c}{n:02d}",
                        name=f"Product {group}-{c}-{n}",
                        category=category,
                        price_minor=1000 + n * 100,
                        currency="CNY",
                        tags=[f"style-{group}", f"line-{c}-{n % 3}"],
                    )
                )
    Product.objects.bulk_create(products)
    products = list(Product.objects.order_by("sku"))
    for group in range(GROUPS):
        by_group[group] = [p for p in products if p.category.startswith(f"cat-{group}-")]
    shop = shop_default()
    groups: dict[int, int] = {}
    end = program_midnight(as_of)
    orders, lines = [], []
    for group in range(GROUPS):
        for _n in range(members_per_group):
            member = MemberFactory()
            groups[member.pk] = group
            count = rng.randint(3, 6)
            for o in range(count):
                placed = end - dt.timedelta(days=200 - o * 30 - rng.randint(0, 20), hours=1)
                order = Order(
                    shop=shop,
                    order_id=f"o-{member.pk}-{o}",
                    member=member,
                    placed_at=placed,
                    currency="CNY",
                    total_minor=0,
                    fingerprint="x",
                )
                picked = []
                for _line in range(rng.randint(2, 4)):
                    pool = by_group[group]
                    if rng.random() < NOISE:
                        pool = by_group[rng.randrange(GROUPS)]
                    # Skewed: the first products of each category are bought more.
                    picked.append(pool[min(int(rng.expovariate(1 / 10)), len(pool) - 1)])
                orders.append((order, {p.sku: p for p in picked}.values()))
    Order.objects.bulk_create([order for order, _picked in orders])
    for order, picked in orders:
        for product in picked:
            lines.append(
                OrderLine(
                    order=order,
                    sku=product.sku,
                    category=product.category,
                    quantity=1,
                    amount_minor=product.price_minor,
                )
            )
    OrderLine.objects.bulk_create(lines)
    Order.objects.filter(pk__in=[o.pk for o, _p in orders]).update(total_minor=100_000)
    return {"groups": groups, "products": products}
