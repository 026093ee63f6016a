"""The nightly `tags` job: each member's profile tags from the rules, replaced
per chunk of members (staff tags are left alone).

Over the TAG_WINDOW_DAYS (180) programme days before the night, counted orders
only (not wholly refunded):

- `category:<name>`: a category with at least CATEGORY_SHARE_PERCENT (30%) of the
  member's spend and in at least CATEGORY_MIN_ORDERS (2) of their orders (a
  line's category, else its product's);
- `coupon_sensitive`: at least COUPON_MIN_ORDERS (2) orders, and a coupon used on
  at least half of them;
- `high_value`: net spend of at least TAG_HIGH_VALUE_SPEND;
- `night_shopper`: at least NIGHT_MIN_EVENTS (3) orders and behaviour events from
  22:00 to 06:00 in PROGRAM_TIME_ZONE, and at least half of all of them;
- `lifecycle:<stage>` and any rule an app above registers (`register_tag_rule`:
  campaigns adds the lifecycle stage of its `segments` job, which runs before).

Behaviour is counted once a night for every member (the first chunk to come
sums it into `BehaviourHours`, and by hour into `BehaviourHour` for the outbox's
send time, as the recommendations' build does), so that a chunk does not read
the whole window of events again. Plain SQL: an INSERT ...
SELECT per rule, portable between PostgreSQL and SQLite.
"""

import datetime as dt
from collections import Counter
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from batch.services import program_midnight, program_zone
from rewards.models import CouponUse
from shop.models import Order, OrderLine, Product
from shop.money import parse_amount

from .models import BehaviourEvent, BehaviourHour, BehaviourHours, MemberTag, TagNight

CATEGORY_SHARE_PERCENT = 30
CATEGORY_MIN_ORDERS = 2
COUPON_MIN_ORDERS = 2
NIGHT_MIN_EVENTS = 3
NIGHT_FROM, NIGHT_UNTIL = 22, 6

TAG = MemberTag._meta.db_table
ORDER = Order._meta.db_table
LINE = OrderLine._meta.db_table
PRODUCT = Product._meta.db_table
USE = CouponUse._meta.db_table
EVENT = BehaviourEvent._meta.db_table
HOURS = BehaviourHours._meta.db_table
HOUR = BehaviourHour._meta.db_table

# A rule: (night, first member id, last member id) -> (SELECT member_id, tag, params).
TagRule = Callable[[dt.date, int, int], tuple[str, list[Any]]]
_rules: dict[str, TagRule] = {}


def register_tag_rule(name: str, rule: TagRule) -> None:
    """Have the nightly job add the tags `rule` selects (an app above this one,
    in its AppConfig.ready())."""
    _rules[name] = rule


def _at(moment: dt.datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(moment)


def _window(as_of: dt.date) -> list[Any]:
    start = program_midnight(as_of - dt.timedelta(days=settings.TAG_WINDOW_DAYS))
    return [_at(start), _at(program_midnight(as_of))]


def _hour(column: str, as_of: dt.date) -> str:
    """SQL: the hour of the programme's day of the UTC time `column`. PostgreSQL
    converts with the zone; SQLite, without zones, with the zone's offset on the
    night's day."""
    if connection.vendor == "postgresql":
        zone = program_zone().key.replace("'", "")
        return f"CAST(EXTRACT(HOUR FROM {column} AT TIME ZONE '{zone}') AS INTEGER)"
    offset = program_midnight(as_of).utcoffset() or dt.timedelta()
    seconds = int(offset.total_seconds())
    return f"CAST(strftime('%%H', {column}, '{seconds:+d} seconds') AS INTEGER)"


def _night(column: str, as_of: dt.date) -> str:
    """SQL: 1 when the UTC time `column` is at night in the programme's time zone."""
    hour = _hour(column, as_of)
    return f"(CASE WHEN {hour} >= {NIGHT_FROM} OR {hour} < {NIGHT_UNTIL} THEN 1 ELSE 0 END)"


def _orders(as_of: dt.date) -> str:
    return (
        "o.placed_at >= %s AND o.placed_at < %s AND o.total_minor > o.refunded_minor "
        "AND o.member_id BETWEEN %s AND %s"
    )


def _category_rule(as_of: dt.date, first_id: int, last_id: int) -> tuple[str, list]:
    sql = f"""
        SELECT c.member_id, 'category:' || c.category AS tag
        FROM (
            SELECT o.member_id, COALESCE(NULLIF(l.category, ''), p.category) AS category,
                SUM(l.amount_minor) AS spend, COUNT(DISTINCT o.id) AS orders
            FROM {ORDER} o JOIN {LINE} l ON l.order_id = o.id
            LEFT JOIN {PRODUCT} p ON p.sku = l.sku AND l.sku <> ''
            WHERE {_orders(as_of)}
            GROUP BY o.member_id, COALESCE(NULLIF(l.category, ''), p.category)
        ) c JOIN (
            SELECT o.member_id, SUM(l.amount_minor) AS spend
            FROM {ORDER} o JOIN {LINE} l ON l.order_id = o.id
            WHERE {_orders(as_of)}
            GROUP BY o.member_id
        ) t ON t.member_id = c.member_id
        WHERE c.category IS NOT NULL AND c.category <> '' AND c.orders >= %s
            AND t.spend > 0 AND c.spend * 100 >= t.spend * %s
    """
    bounds = [*_window(as_of), first_id, last_id]
    return sql, [*bounds, *bounds, CATEGORY_MIN_ORDERS, CATEGORY_SHARE_PERCENT]


def _coupon_rule(as_of: dt.date, first_id: int, last_id: int) -> tuple[str, list]:
    sql = f"""
        SELECT member_id, 'coupon_sensitive' AS tag FROM (
            SELECT o.member_id, COUNT(*) AS orders, SUM(CASE WHEN EXISTS (
                SELECT 1 FROM {USE} u WHERE u.shop_id = o.shop_id AND u.order_id = o.order_id
                    AND u.released_at IS NULL) THEN 1 ELSE 0 END) AS with_coupon
            FROM {ORDER} o WHERE {_orders(as_of)}
            GROUP BY o.member_id
        ) c WHERE orders >= %s AND with_coupon * 2 >= orders
    """
    return sql, [*_window(as_of), first_id, last_id, COUPON_MIN_ORDERS]


def _high_value_rule(as_of: dt.date, first_id: int, last_id: int) -> tuple[str, list]:
    sql = f"""
        SELECT o.member_id, 'high_value' AS tag FROM {ORDER} o WHERE {_orders(as_of)}
        GROUP BY o.member_id HAVING SUM(o.total_minor - o.refunded_minor) >= %s
    """
    threshold = parse_amount(settings.TAG_HIGH_VALUE_SPEND, settings.PROGRAM_CURRENCY)
    return sql, [*_window(as_of), first_id, last_id, threshold]


def _night_rule(as_of: dt.date, first_id: int, last_id: int) -> tuple[str, list]:
    sql = f"""
        SELECT member_id, 'night_shopper' AS tag FROM (
            SELECT member_id, SUM(events) AS events, SUM(night) AS night FROM (
                SELECT o.member_id, COUNT(*) AS events, SUM({_night("o.placed_at", as_of)}) AS night
                FROM {ORDER} o WHERE {_orders(as_of)} GROUP BY o.member_id
                UNION ALL
                SELECT h.member_id, h.events, h.night_events FROM {HOURS} h
                WHERE h.member_id BETWEEN %s AND %s
            ) x GROUP BY member_id
        ) n WHERE night >= %s AND night * 2 >= events
    """
    return sql, [*_window(as_of), first_id, last_id, first_id, last_id, NIGHT_MIN_EVENTS]


RULES: dict[str, TagRule] = {
    "category": _category_rule,
    "coupon_sensitive": _coupon_rule,
    "high_value": _high_value_rule,
    "night_shopper": _night_rule,
}


def behaviour_hours_count(*, as_of: dt.date) -> TagNight:
    """Every member's behaviour events over the window, how many at night and how
    many in each hour: one pass over the window per table, by the night's first
    chunk (the others wait on the night's row, then read it)."""
    found = TagNight.objects.filter(as_of=as_of).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            night = TagNight.objects.create(as_of=as_of)
            BehaviourHours.objects.all().delete()
            BehaviourHour.objects.all().delete()
            with connection.cursor() as cursor:
                cursor.execute(
                    f"""
                    INSERT INTO {HOURS} (member_id, events, night_events)
                    SELECT b.member_id, COUNT(*), SUM({_night("b.occurred_at", as_of)})
                    FROM {EVENT} b WHERE b.occurred_at >= %s AND b.occurred_at < %s
                    GROUP BY b.member_id
                    """,
                    _window(as_of),
                )
                night.members = max(cursor.rowcount, 0)
                hour = _hour("b.occurred_at", as_of)
                cursor.execute(
                    f"""
                    INSERT INTO {HOUR} (member_id, hour, events)
                    SELECT b.member_id, {hour}, COUNT(*)
                    FROM {EVENT} b WHERE b.occurred_at >= %s AND b.occurred_at < %s
                    GROUP BY b.member_id, {hour}
                    """,
                    _window(as_of),
                )
            night.save(update_fields=["members"])
    except IntegrityError:
        return TagNight.objects.get(as_of=as_of)
    return night


def tags(as_of: dt.date, first_id: int, last_id: int) -> dict[str, int]:
    """Replace the rule tags of members `first_id`..`last_id` for the night."""
    behaviour_hours_count(as_of=as_of)
    MemberTag.objects.filter(
        source=MemberTag.Source.RULE, member_id__gte=first_id, member_id__lte=last_id
    ).delete()
    written = 0
    now = _at(timezone.now())
    day = connection.ops.adapt_datefield_value(as_of)
    with connection.cursor() as cursor:
        for rule in [*RULES.values(), *_rules.values()]:
            sql, params = rule(as_of, first_id, last_id)
            # WHERE 1 = 1: SQLite needs it between a SELECT and ON CONFLICT.
            cursor.execute(
                f"INSERT INTO {TAG} (member_id, tag, source, computed_on, created_at) "
                f"SELECT r.member_id, r.tag, %s, %s, %s FROM ({sql}) r WHERE 1 = 1 "
                "ON CONFLICT (member_id, tag) DO NOTHING",
                [MemberTag.Source.RULE.value, day, now, *params],
            )
            written += max(cursor.rowcount, 0)
    return {"tags_written": written}


def behaviour_hours(member_id: int, since: dt.datetime) -> Counter[int]:
    """The outbox's send time: a member's behaviour events by hour of the
    programme's day, as the last `tags` night counted them (over TAG_WINDOW_DAYS,
    whatever `since`), so that sending reads a few rows, not the events."""
    rows = BehaviourHour.objects.filter(member_id=member_id).values_list("hour", "events")
    return Counter(dict(rows))
