"""The order path's plain SQL: the statements of `order_record`, which every order
the shop reports goes through (`POST /api/v1/orders`, Shopify's webhooks).

Through the ORM an order cost 19 statements and about 14 ms of Python (compiling
each query and building its model instances), a twentieth of what the same
server answers for a trivial endpoint (`python -m bench orders_http`). Here an
order for a member who has ordered before is these statements, in one
transaction and two round trips to the database (after the one psycopg spends
on BEGIN), however many campaigns apply:

    1. ORDER_BEGIN, sent together (psycopg's pipeline mode), run one after another:
       LOCK_MEMBER     the member by number, their tier state and balance row
                       locked (in that order, as every transaction that takes both)
       INSERT_ORDER    the order, for the member found by number, or nothing when
                       its id is taken: a retry, or the same order sent twice at
                       once (the second insert waits for the first to commit and
                       then does nothing), is then answered as the first time; no
                       check before, no savepoint
       INSERT_LINES    every line, of the order found by its shop's id
       STANDING        the member's qualifying spend (this order included) and
                       running plan (tiers.selectors), read after the lock, so that
                       it counts every order committed before this one
       ORDERED_BEFORE  while a welcome campaign runs: whether the member has
                       another order
    2. sent together: the order's own points and each campaign's, the balance and
       the lots (`points_earn_together`, the ledger's one write path, given the
       balance row locked in 1; their keys name the order inserted in 1, so none
       can have been used and the lots name their entries by key), and
       ORDER_FINISH    what the order earned (the answer a retry gets) and the
                       campaigns it applied
    An order that earns nothing sends only ORDER_FINISH in 2.

What the statements of 1 write is undone with the transaction when the answer
says the order may not be taken: its id was taken (nothing inserted, and so no
lines: they name an order inserted by this transaction or by the one it waited
for, which this one then rolls back), the member is unknown (nothing inserted),
frozen or closed. A member's first order finds no tier state or balance row to
lock: those rows are created, locked, and the spend read again.

The tiers and plans come from a per-process cache (`tiers.selectors.tier_rules`),
as do the campaigns (`campaigns.catalogue`).
Every statement is portable between PostgreSQL and SQLite; on PostgreSQL they run
as the ledger's do (`points.ledger_sql.together`: bound by the server, prepared
once they have run a few times on a connection).
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.backends.utils import CursorWrapper

from members.models import Member
from points.ledger_sql import Balance, Statement, column_types, rows_table, together
from points.models import Account
from shop.models import Order, OrderLine
from tiers.models import MemberTier
from tiers.selectors import Standing, standing_from, standing_statement, tier_cached

from .models import OrderCampaign, OrderPoints

MEMBER = Member._meta.db_table
STATE = MemberTier._meta.db_table
ACCOUNT = Account._meta.db_table
ORDER = Order._meta.db_table
LINE = OrderLine._meta.db_table
ORDER_POINTS = OrderPoints._meta.db_table
ORDER_CAMPAIGN = OrderCampaign._meta.db_table

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
    SELECT %s, %s, m.id, %s, %s, %s, %s, 0, %s, %s, %s, %s FROM {MEMBER} m WHERE m.number = %s
    ON CONFLICT DO NOTHING
    RETURNING id
"""  # noqa: S608
# The lines of the order with the shop's order id: none when there is no such order.
_LINE_COLUMNS = ("sku", "category", "quantity", "amount_minor")
_INSERT_LINES = f"""
    INSERT INTO {LINE} (order_id, {", ".join(_LINE_COLUMNS)})
    SELECT o.id, v.column1, v.column2, v.column3, v.column4
    FROM {ORDER} o, {{rows}}
    WHERE o.shop_id = %s AND o.order_id = %s
"""  # noqa: S608
# Whether the member has an order other than this one (shop and order id).
_ORDERED_BEFORE = f"""
    SELECT EXISTS (SELECT 1 FROM {ORDER} o JOIN {MEMBER} m ON m.id = o.member_id
        WHERE m.number = %s AND NOT (o.shop_id = %s AND o.order_id = %s))
"""  # noqa: S608
_INSERT_ORDER_POINTS = f"""
    INSERT INTO {ORDER_POINTS} (order_id, points, pending_until, rules) VALUES (%s, %s, %s, %s)
"""  # noqa: S608
_ORDER_CAMPAIGN_COLUMNS = ("campaign_id", "points", "variant")
_INSERT_ORDER_CAMPAIGNS = f"""
    INSERT INTO {ORDER_CAMPAIGN} (order_id, {", ".join(_ORDER_CAMPAIGN_COLUMNS)})
    SELECT %s, v.column1, v.column2, v.column3 FROM {{rows}}
"""  # noqa: S608


@dataclass
class OrderMember:
    """The member an order is for, with their tier state and balance row locked."""

    member: Member
    state: MemberTier
    balance: Balance


@dataclass
class OrderBegun:
    """What the first round trip of an order found."""

    locked: OrderMember | None  # None: no such member, or no tier state or balance row yet
    order_pk: int | None  # None: the order's id is taken, or no such member
    standing: Standing  # read under the lock (when `locked`)
    first_order: bool | None  # the member's first (asked under the lock); None: not asked


def _ts(value: dt.datetime | None) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def _lock_statement(number: str) -> Statement:
    sql = _LOCK_MEMBER
    if connection.features.has_select_for_update_of:
        sql += " FOR UPDATE OF t, a"
    return sql, [number]


def _locked(number: str, rows: list[tuple[Any, ...]]) -> OrderMember | None:
    if not rows:
        return None
    member_id, status, verified, tier_id, since, grace_until, available, pending, earned = rows[0]
    member = Member(pk=member_id, number=number, status=status)
    tier = tier_cached(tier_id=tier_id)
    state = MemberTier(member_id=member_id, tier=tier, since=since, grace_until=grace_until)
    state._state.adding = False
    balance = Balance(member_id, available, pending, earned, number, status, bool(verified))
    return OrderMember(member, state, balance)


def lock_member(cursor: CursorWrapper, number: str) -> OrderMember | None:
    """The member whose number is `number`, their tier state and balance row
    locked until the transaction ends; None when the member has no tier state or
    balance row yet (or there is no such member)."""
    (rows,) = together(cursor, [_lock_statement(number)])
    return _locked(number, rows)


def _insert_order_statement(order: Order, number: str) -> Statement:
    return (
        _INSERT_ORDER,
        [
            order.shop_id,
            order.order_id,
            _ts(order.placed_at),
            order.currency,
            order.total_minor,
            order.shipping_minor,
            _ts(order.created_at),
            order.api_key_id,
            order.shopify_shop_id,
            order.fingerprint,
            number,
        ],
    )


def _insert_lines_statement(order: Order, lines: list[tuple[str, str, int, int]]) -> Statement:
    rows, values = rows_table(column_types(OrderLine, _LINE_COLUMNS), lines)
    return _INSERT_LINES.format(rows=rows), [*values, order.shop_id, order.order_id]


def order_begin(
    cursor: CursorWrapper,
    *,
    number: str,
    order: Order,
    lines: list[tuple[str, str, int, int]],
    today: dt.date,
    ask_ordered_before: bool = False,
) -> OrderBegun:
    """Lock the member numbered `number`, insert `order` (its member unset: found
    by number) and its lines, (sku, category, quantity, amount_minor) each, and
    read the member's standing (and whether this is their first order, if
    asked), in one round trip."""
    statements = [_lock_statement(number), _insert_order_statement(order, number)]
    if lines:
        statements.append(_insert_lines_statement(order, lines))
    statements.append(standing_statement(last_day=today, at=order.placed_at, number=number))
    if ask_ordered_before:
        statements.append((_ORDERED_BEFORE, [number, order.shop_id, order.order_id]))
    results = together(cursor, statements)
    locked, inserted, standing = results[0], results[1], results[2 + bool(lines)]
    asked = ask_ordered_before and bool(locked)  # else asked before the lock: not an answer
    return OrderBegun(
        locked=_locked(number, locked),
        order_pk=inserted[0][0] if inserted else None,
        standing=standing_from(standing),
        first_order=not results[-1][0][0] if asked else None,
    )


def order_finish(
    order_id: int,
    points: int,
    pending_until: dt.datetime | None,
    rules: list[str],
    campaigns: list[tuple[int, int, str]],
) -> list[Statement]:
    """The statements that record what the order earned, and the campaigns it
    applied, (campaign id, points, variant) each: for the ledger's last round
    trip (or on their own when the order earns nothing)."""
    rules_json = connection.ops.adapt_json_value(rules, None)
    statements: list[Statement] = [
        (_INSERT_ORDER_POINTS, [order_id, points, _ts(pending_until), rules_json])
    ]
    if campaigns:
        rows, values = rows_table(column_types(OrderCampaign, _ORDER_CAMPAIGN_COLUMNS), campaigns)
        statements.append((_INSERT_ORDER_CAMPAIGNS.format(rows=rows), [order_id, *values]))
    return statements
