"""The order path's plain SQL: the statements of `order_record`, which every order
the shop reports goes through (`POST /api/v1/orders`, Shopify's webhooks).

Through the ORM an order cost 19 statements and about 14 ms of Python (compiling
each query and building its model instances), a twentieth of what the same
server answers for a trivial endpoint (`python -m bench orders_http`). Here an
order for a member who has ordered before is these statements, in one
transaction:

    1. LOCK_MEMBER     the member by number, their tier state and balance row
                       locked (in that order, as every transaction that takes both),
                       in one statement
    2. INSERT_ORDER    the order, or nothing when its id is taken: a retry, or the
                       same order sent twice at once (the second insert waits for
                       the first to commit and then does nothing), is then answered
                       as the first time; no check before, no savepoint
    3. INSERT_LINES    every line in one statement
    4. the member's qualifying spend and running plan (tiers.selectors), read
       after the lock, so that it counts every order committed before this one
    5-7. the points: entry, balance, lot (`points_earn`, the ledger's one write
       path, given the balance row locked in 1)
    8. INSERT_ORDER_POINTS what the order earned: the answer a retry gets

The tiers and plans come from a per-process cache (`tiers.selectors.tier_rules`).
A member's first order creates their tier state and balance row first. Every
statement is portable between PostgreSQL and SQLite; on PostgreSQL they run as
the ledger's do (`points.ledger_sql.together`: bound by the server, prepared
once they have run a few times on a connection).
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.backends.utils import CursorWrapper

from members.models import Member
from points.ledger_sql import Balance, together
from points.models import Account
from shop.models import Order, OrderLine
from tiers.models import MemberTier
from tiers.selectors import tier_cached

from .models import OrderPoints

MEMBER = Member._meta.db_table
STATE = MemberTier._meta.db_table
ACCOUNT = Account._meta.db_table
ORDER = Order._meta.db_table
LINE = OrderLine._meta.db_table
ORDER_POINTS = OrderPoints._meta.db_table

# FOR UPDATE OF t, a (where the database has row locks) locks the tier state,
# then the balance row: PostgreSQL takes the locks in the order OF names them.
_LOCK_MEMBER = f"""
    SELECT m.id, m.status, m.email_verified_at IS NOT NULL,
        t.tier_id, t.since, t.grace_until,
        a.available, a.pending, a.lifetime_earned
    FROM {MEMBER} m
    JOIN {STATE} t ON t.member_id = m.id
    JOIN {ACCOUNT} a ON a.member_id = m.id
    WHERE m.number = %s
"""  # noqa: S608 - table names are the models', values are parameters
_INSERT_ORDER = f"""
    INSERT INTO {ORDER} (shop_id, order_id, member_id, placed_at, currency, total_minor,
        shipping_minor, refunded_minor, created_at, api_key_id, shopify_shop_id, fingerprint)
    VALUES (%s, %s, %s, %s, %s, %s, %s, 0, %s, %s, %s, %s)
    ON CONFLICT DO NOTHING
    RETURNING id
"""  # noqa: S608
_INSERT_LINES = "INSERT INTO {line} (order_id, sku, category, quantity, amount_minor) VALUES {rows}"
_INSERT_ORDER_POINTS = f"""
    INSERT INTO {ORDER_POINTS} (order_id, points, pending_until, rules) VALUES (%s, %s, %s, %s)
"""  # noqa: S608


@dataclass
class OrderMember:
    """The member an order is for, with their tier state and balance row locked."""

    member: Member
    state: MemberTier
    balance: Balance


def _ts(value: dt.datetime | None) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def lock_member(cursor: CursorWrapper, number: str) -> OrderMember | None:
    """The member whose number is `number`, their tier state and balance row
    locked until the transaction ends; None when the member has no tier state or
    balance row yet (or there is no such member)."""
    sql = _LOCK_MEMBER
    if connection.features.has_select_for_update_of:
        sql += " FOR UPDATE OF t, a"
    (rows,) = together(cursor, [(sql, [number])])
    if not rows:
        return None
    member_id, status, verified, tier_id, since, grace_until, available, pending, earned = rows[0]
    member = Member(pk=member_id, number=number, status=status)
    tier = tier_cached(tier_id=tier_id)
    state = MemberTier(member_id=member_id, tier=tier, since=since, grace_until=grace_until)
    state._state.adding = False
    balance = Balance(member_id, available, pending, earned, number, status, bool(verified))
    return OrderMember(member, state, balance)


def insert_order(cursor: CursorWrapper, order: Order) -> int | None:
    """Insert `order`; its id, or None (nothing written) when its shop's order id is
    taken."""
    statement = (
        _INSERT_ORDER,
        [
            order.shop_id,
            order.order_id,
            order.member_id,
            _ts(order.placed_at),
            order.currency,
            order.total_minor,
            order.shipping_minor,
            _ts(order.created_at),
            order.api_key_id,
            order.shopify_shop_id,
            order.fingerprint,
        ],
    )
    (inserted,) = together(cursor, [statement])
    return inserted[0][0] if inserted else None


def insert_lines(
    cursor: CursorWrapper, order_id: int, lines: list[tuple[str, str, int, int]]
) -> None:
    """Insert the order's lines, (sku, category, quantity, amount_minor) each."""
    if not lines:
        return
    rows = ", ".join(["(%s, %s, %s, %s, %s)"] * len(lines))
    values = [value for line in lines for value in (order_id, *line)]
    together(cursor, [(_INSERT_LINES.format(line=LINE, rows=rows), values)])


def insert_order_points(
    cursor: CursorWrapper,
    order_id: int,
    points: int,
    pending_until: dt.datetime | None,
    rules: list[str],
) -> None:
    rules_json = connection.ops.adapt_json_value(rules, None)
    together(cursor, [(_INSERT_ORDER_POINTS, [order_id, points, _ts(pending_until), rules_json])])
