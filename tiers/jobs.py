"""The tier jobs of the night, each run per chunk of member ids by the batch
framework (`batch`), each safe to run twice for the same day.

`recalc_tiers` is plain SQL, portable between PostgreSQL and SQLite, because the
ORM cannot say an UPDATE ... FROM an aggregate or an INSERT ... SELECT; a chunk is
a handful of statements whatever its size. Every statement is guarded by the
state it changes, so running a chunk again for the same night does nothing more
(and the batch framework skips the ranges an earlier run of the night finished).
"""

import datetime as dt
from itertools import pairwise
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import F, QuerySet
from django.utils import timezone

from batch.registry import Job, register
from batch.services import program_midnight, program_zone
from members.models import Member
from notifications.models import Message
from notifications.services import messages_queue, outbox_send_after_commit
from notifications.webhooks import webhook_events_queue, webhook_listened
from shop.models import Order

from .messages import (
    PLAN_ENDED,
    PLAN_REMINDER,
    TIER_CHANGED,
    message_kind,
    notice_build,
    notice_key,
    template,
    tier_changed_payload,
)
from .models import MemberTier, Subscription, Tier, TierChange
from .selectors import qualifying_window, tiers_by_rank

STATE = MemberTier._meta.db_table
ORDER = Order._meta.db_table
MEMBER = Member._meta.db_table
CHANGE = TierChange._meta.db_table
MESSAGE = Message._meta.db_table
TIER = Tier._meta.db_table

IN_CHUNK = f"{STATE}.member_id BETWEEN %s AND %s"
# Only a row whose spend qualifies for another tier than its own, or that has an
# override, can move: a cheap test that spares most rows the rest.
MAY_MOVE = f"({STATE}.qualified_tier_id <> {STATE}.tier_id OR {STATE}.override_tier_id IS NOT NULL)"


class Ladder:
    """The tiers as SQL CASE expressions over a tier id column: a handful of
    tiers, read once per chunk and written into the statements as integer
    literals, cost the database nothing per row (a subquery per row would)."""

    def __init__(self, tiers: list[Tier]) -> None:
        self.tiers = tiers

    def _case(self, column: str, pairs: list[tuple[int, int]]) -> str:
        if not pairs:
            return "NULL"
        whens = " ".join(f"WHEN {int(key)} THEN {int(value)}" for key, value in pairs)
        return f"(CASE {column} {whens} END)"

    def rank(self, column: str) -> str:
        return self._case(column, [(t.pk, t.rank) for t in self.tiers])

    def threshold(self, column: str) -> str:
        return self._case(column, [(t.pk, t.threshold_minor) for t in self.tiers])

    def lower(self, column: str) -> str:
        """The tier one below (none below the lowest)."""
        return self._case(column, [(high.pk, low.pk) for low, high in pairwise(self.tiers)])

    def next(self, column: str) -> str:
        """The tier one above (none above the top)."""
        return self._case(column, [(low.pk, high.pk) for low, high in pairwise(self.tiers)])

    def next_threshold(self, column: str) -> str:
        pairs = [(low.pk, high.threshold_minor) for low, high in pairwise(self.tiers)]
        return self._case(column, pairs)

    def qualified(self, spend: str, orders: str) -> str:
        """The highest tier whose threshold and minimum orders are met."""
        whens = " ".join(
            f"WHEN {spend} >= {int(t.threshold_minor)} AND {orders} >= {int(t.min_orders)} "
            f"THEN {int(t.pk)}"
            for t in reversed(self.tiers)
        )
        return f"(CASE {whens} ELSE {int(self.tiers[0].pk)} END)"

    def floor(self, *, rank: bool) -> str:
        """The better of the qualified tier and a running override: its rank, or
        its id."""
        by_override = self.rank(f"{STATE}.override_tier_id")
        by_spend = self.rank(f"{STATE}.qualified_tier_id")
        if rank:
            return f"(CASE WHEN {by_override} > {by_spend} THEN {by_override} ELSE {by_spend} END)"
        return (
            f"(CASE WHEN {by_override} > {by_spend} THEN {STATE}.override_tier_id "
            f"ELSE {STATE}.qualified_tier_id END)"
        )


def _date(value: dt.date) -> Any:
    return connection.ops.adapt_datefield_value(value)


def _ts(value: dt.datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def recalc_tiers(as_of: dt.date, first_id: int, last_id: int) -> dict[str, int]:
    """Evaluate the tiers of members `first_id`..`last_id` for the night `as_of`:
    the spend of the window ending the day before, then upgrades, grace periods,
    downgrades at the end of grace (one tier), requalification and nudges. Each
    change writes one history row and one notice.

    The first UPDATE writes the spend, orders and qualified tier of the rows
    where they changed (a few in a hundred on a usual night), and ends overrides
    that ran out; the transitions then look at every row of the chunk. Each is
    guarded by the state it changes, so applying it again to a row it already
    changed does nothing (a downgrade, which leaves the member short of their new
    tier, sets `since` past the window, which keeps grace from starting the same
    night)."""
    now, day = _ts(timezone.now()), _date(as_of)
    chunk = [first_id, last_id]
    start, end = qualifying_window(last_day=as_of - dt.timedelta(days=1))
    grace_end = _date(as_of + dt.timedelta(days=settings.TIER_GRACE_DAYS))
    nudge_after = _date(as_of - dt.timedelta(days=settings.TIER_NUDGE_EVERY_DAYS))
    counts = {"upgraded": 0, "grace_started": 0, "grace_cleared": 0, "downgraded": 0, "nudged": 0}
    ladder = Ladder(tiers_by_rank())
    current_rank, floor_rank = ladder.rank(f"{STATE}.tier_id"), ladder.floor(rank=True)
    floor_tier, lower_tier = ladder.floor(rank=False), ladder.lower(f"{STATE}.tier_id")
    qualified = ladder.qualified("s.spend", "s.orders")
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {STATE} (member_id, tier_id, since, override_reason, spend_minor,
                orders_count)
            SELECT m.id, %s, %s, '', 0, 0 FROM {MEMBER} m
            WHERE m.id BETWEEN %s AND %s
              AND NOT EXISTS (SELECT 1 FROM {STATE} s
                  WHERE s.member_id = m.id AND s.member_id BETWEEN %s AND %s)
            ON CONFLICT (member_id) DO NOTHING
            """,
            [ladder.tiers[0].pk, now, first_id, last_id, first_id, last_id],
        )
        cursor.execute(
            f"""
            UPDATE {STATE} SET
                spend_minor = s.spend,
                orders_count = s.orders,
                qualified_tier_id = {qualified},
                override_tier_id = CASE WHEN override_until < %s THEN NULL
                    ELSE override_tier_id END,
                override_reason = CASE WHEN override_until < %s THEN ''
                    ELSE override_reason END,
                override_until = CASE WHEN override_until < %s THEN NULL
                    ELSE override_until END
            FROM (
                SELECT x.member_id, COALESCE(a.spend, 0) AS spend, COALESCE(a.orders, 0) AS orders
                FROM {STATE} x LEFT JOIN (
                    SELECT o.member_id,
                        CAST(SUM(o.total_minor - o.refunded_minor) AS BIGINT) AS spend,
                        SUM(CASE WHEN o.total_minor > o.refunded_minor THEN 1 ELSE 0 END)
                            AS orders
                    FROM {ORDER} o
                    WHERE o.member_id BETWEEN %s AND %s
                      AND o.placed_at >= %s AND o.placed_at < %s
                    GROUP BY o.member_id
                ) a ON a.member_id = x.member_id
                WHERE x.member_id BETWEEN %s AND %s
            ) s
            WHERE {STATE}.member_id = s.member_id AND {STATE}.member_id BETWEEN %s AND %s
              AND ({STATE}.spend_minor <> s.spend OR {STATE}.orders_count <> s.orders
                OR COALESCE({STATE}.qualified_tier_id, 0) <> {qualified}
                OR {STATE}.override_until < %s)
            """,
            [day, day, day, *chunk, _ts(start), _ts(end), *chunk, *chunk, day],
        )
        counts["spend_changed"] = cursor.rowcount

        # Up: the floor (spend or override) is above the tier.
        up = _locked(cursor, f"{IN_CHUNK} AND {MAY_MOVE} AND {floor_rank} > {current_rank}", chunk)
        if up:
            _change(cursor, "upgrade", floor_tier, up, chunk, day, now)
            _tier_events(cursor, "upgrade", floor_tier, up, chunk, as_of)
            _notice(cursor, "upgrade", floor_tier, "0", "NULL", up, chunk, day, now)
            cursor.execute(
                f"UPDATE {STATE} SET tier_id = {floor_tier}, since = %s, grace_until = NULL "
                f"WHERE {up}",
                [now, *chunk],
            )
            counts["upgraded"] = cursor.rowcount

        # Back at the tier's level during grace: grace ends.
        cursor.execute(
            f"UPDATE {STATE} SET grace_until = NULL "
            f"WHERE {IN_CHUNK} AND grace_until IS NOT NULL AND {floor_rank} >= {current_rank}",
            chunk,
        )
        counts["grace_cleared"] = cursor.rowcount

        # Below the tier and not yet in grace: grace begins, the member is told
        # what they must spend by when. A tier set after the window closed (an
        # upgrade by an order placed since midnight, a downgrade tonight) is
        # judged on the next night.
        short = f"{IN_CHUNK} AND {MAY_MOVE} AND {floor_rank} < {current_rank} AND since < %s"
        short_params = [*chunk, _ts(end)]
        threshold = ladder.threshold(f"{STATE}.tier_id")
        shortfall = f"CASE WHEN {threshold} > spend_minor THEN {threshold} - spend_minor ELSE 0 END"
        if enter := _locked(cursor, f"{short} AND grace_until IS NULL", short_params):
            _notice(
                cursor,
                "grace",
                "tier_id",
                shortfall,
                "%s",
                enter,
                [grace_end, *short_params],
                day,
                now,
            )
            cursor.execute(
                f"UPDATE {STATE} SET grace_until = %s WHERE {enter}", [grace_end, *short_params]
            )
            counts["grace_started"] = cursor.rowcount
        # Still below when grace has run out: one tier down, not more.
        drop_params = [*short_params, day]
        drop = _locked(
            cursor, f"{short} AND grace_until IS NOT NULL AND grace_until <= %s", drop_params
        )
        if drop:
            _change(cursor, "downgrade", lower_tier, drop, drop_params, day, now)
            _tier_events(cursor, "downgrade", lower_tier, drop, drop_params, as_of)
            _notice(cursor, "downgrade", lower_tier, "0", "NULL", drop, drop_params, day, now)
            cursor.execute(
                f"UPDATE {STATE} SET tier_id = {lower_tier}, since = %s, grace_until = NULL "
                f"WHERE {drop}",
                [now, *drop_params],
            )
            counts["downgraded"] = cursor.rowcount

        # Within TIER_NUDGE_PERCENT of the next threshold, not nudged lately.
        next_threshold = ladder.next_threshold(f"{STATE}.tier_id")
        near_params = [
            *chunk,
            100 - settings.TIER_NUDGE_PERCENT,
            nudge_after,
            first_id,
            last_id,
            Member.Status.ACTIVE,
        ]
        near = _locked(
            cursor,
            f"{IN_CHUNK} AND spend_minor < {next_threshold} "
            f"AND spend_minor * 100 >= {next_threshold} * %s "
            f"AND (nudged_on IS NULL OR nudged_on <= %s) AND member_id IN "
            f"(SELECT m.id FROM {MEMBER} m WHERE m.id BETWEEN %s AND %s AND m.status = %s)",
            near_params,
        )
        if near:
            _notice(
                cursor,
                "nudge",
                ladder.next(f"{STATE}.tier_id"),
                f"{next_threshold} - spend_minor",
                "NULL",
                near,
                near_params,
                day,
                now,
            )
            cursor.execute(f"UPDATE {STATE} SET nudged_on = %s WHERE {near}", [day, *near_params])
            counts["nudged"] = cursor.rowcount
    if any(counts[name] for name in ("upgraded", "grace_started", "downgraded", "nudged")):
        outbox_send_after_commit()
    return {key: value for key, value in counts.items() if value}


def _locked(cursor: Any, where: str, params: list) -> str | None:
    """Lock the state rows `where` holds (where the database has row locks) and
    return `where` narrowed to exactly those rows; None when there are none.

    A transition writes its history and notices, then its update, in separate
    statements: with the rows locked first, an order committing meanwhile (which
    locks the member's row) waits for the chunk to commit, so the update changes
    every row the history and notices were written for, and no other row. The
    ids are integers read from the table, written into the statement as literals
    (no limit on parameters)."""
    sql = f"SELECT member_id FROM {STATE} WHERE {where} ORDER BY member_id"
    if connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    cursor.execute(sql, params)
    ids = [int(member_id) for (member_id,) in cursor.fetchall()]
    if not ids:
        return None
    return f"{STATE}.member_id IN ({', '.join(map(str, ids))}) AND {where}"


def _change(
    cursor: Any, reason: str, to_tier: str, where: str, params: list, day: Any, now: Any
) -> None:
    cursor.execute(
        f"""
        INSERT INTO {CHANGE} (member_id, from_tier_id, to_tier_id, reason, as_of, note, created_at)
        SELECT member_id, tier_id, {to_tier}, %s, %s, 'nightly', %s FROM {STATE} WHERE {where}
        """,
        [reason, day, now, *params],
    )


def _tier_events(
    cursor: Any, reason: str, to_tier: str, where: str, params: list, as_of: dt.date
) -> None:
    """Queue a `tier.changed` webhook event for each row `where` holds, before
    the update moves it (only when an endpoint hears the event)."""
    if not webhook_listened(TIER_CHANGED):
        return
    cursor.execute(
        f"""
        SELECT (SELECT m.number FROM {MEMBER} m WHERE m.id = {STATE}.member_id),
            (SELECT t.code FROM {TIER} t WHERE t.id = {STATE}.tier_id),
            (SELECT t.code FROM {TIER} t WHERE t.id = {to_tier})
        FROM {STATE} WHERE {where}
        """,
        params,
    )
    webhook_events_queue(
        event=TIER_CHANGED,
        payloads=[
            tier_changed_payload(number, from_code, to_code, reason, as_of)
            for number, from_code, to_code in cursor.fetchall()
        ],
    )


def _json_object(fields: dict[str, str]) -> str:
    """SQL building a JSON object of `fields` (name: SQL expression):
    PostgreSQL's jsonb_build_object, SQLite's json_object."""
    function = "jsonb_build_object" if connection.vendor == "postgresql" else "json_object"
    pairs = ", ".join(f"'{name}', {sql}" for name, sql in fields.items())
    return f"{function}({pairs})"


def _notice(
    cursor: Any,
    kind: str,
    tier: str,
    amount: str,
    until: str,
    where: str,
    params: list,
    day: Any,
    now: Any,
) -> None:
    """Queue a notice of `kind` in the outbox for each row `where` holds; `tier`,
    `amount` and `until` are SQL over the row (`until` may be a parameter, first
    in `params`). A notice with the same key (member, kind, day, tier) is left
    out: a re-run of the night does not tell a member twice."""
    until_params, where_params = (params[:1], params[1:]) if until == "%s" else ([], params)
    context = {"tier_id": tier, "amount_minor": amount}
    if until != "NULL":
        context["until"] = until
    cursor.execute(
        f"""
        INSERT INTO {MESSAGE} (member_id, channel, kind, template, context, language, "key",
            state, reason, attempts, next_attempt_at, claim, created_at)
        SELECT member_id, %s, %s, %s, {_json_object(context)}, '', %s || CAST({tier} AS TEXT),
            %s, '', 0, %s, '', %s
        FROM {STATE} WHERE {where}
        ON CONFLICT DO NOTHING
        """,
        [
            Message.Channel.EMAIL,
            message_kind(kind),
            template(kind),
            *until_params,
            notice_key(kind, day, ""),
            Message.State.QUEUED,
            now,
            now,
            *where_params,
        ],
    )


def paid_plans(as_of: dt.date, first_id: int, last_id: int) -> dict[str, int]:
    """Remind members whose plan ends within PLAN_REMINDER_DAYS (once per end:
    an extension earns a new reminder), and end the plans whose time is up.

    The subscriptions are locked as they are read, and the updates are guarded by
    what they were read for (still active, the end still due): a purchase
    extending a plan at that moment waits for the chunk, or, if it committed
    first, its plan is not read as due, neither ended nor reminded of the old end."""
    cutoff = program_midnight(as_of)
    now = timezone.now()
    in_chunk = Subscription.objects.filter(
        member_id__gte=first_id, member_id__lte=last_id, status=Subscription.Status.ACTIVE
    )
    reminding = in_chunk.filter(
        ends_at__gt=cutoff, ends_at__lte=cutoff + dt.timedelta(days=settings.PLAN_REMINDER_DAYS)
    ).exclude(reminded_for=F("ends_at"))
    due = _lock_subscriptions(reminding)
    reminded = reminding.filter(pk__in=[row["pk"] for row in due]).update(reminded_for=F("ends_at"))
    _plan_notices(due, PLAN_REMINDER, as_of)
    ending = in_chunk.filter(ends_at__lte=cutoff)
    ended = _lock_subscriptions(ending)
    expired = ending.filter(pk__in=[row["pk"] for row in ended]).update(
        status=Subscription.Status.ENDED, ended_at=now
    )
    lowest = tiers_by_rank()[0].pk
    TierChange.objects.bulk_create(
        TierChange(
            member_id=row["member_id"],
            from_tier_id=row["member__tier_state__tier_id"] or lowest,
            to_tier_id=row["member__tier_state__tier_id"] or lowest,
            reason=TierChange.Reason.PLAN_ENDED,
            as_of=as_of,
            plan_id=row["plan_id"],
            note="nightly",
            created_at=now,
        )
        for row in ended
    )
    _plan_notices(ended, PLAN_ENDED, as_of)
    if ended and webhook_listened(TIER_CHANGED):
        numbers = dict(
            Member.objects.filter(pk__in=[row["member_id"] for row in ended]).values_list(
                "pk", "number"
            )
        )
        codes = {tier.pk: tier.code for tier in tiers_by_rank()}
        webhook_events_queue(
            event=TIER_CHANGED,
            payloads=[
                tier_changed_payload(
                    numbers[row["member_id"]],
                    codes[row["member__tier_state__tier_id"] or lowest],
                    codes[row["member__tier_state__tier_id"] or lowest],
                    TierChange.Reason.PLAN_ENDED,
                    as_of,
                )
                for row in ended
            ],
        )
    return {key: value for key, value in {"reminded": reminded, "ended": expired}.items() if value}


def _lock_subscriptions(subscriptions: QuerySet[Subscription]) -> list[dict]:
    """The subscriptions' rows, locked (the subscription alone) until the chunk
    commits: a purchase extending one of them waits, so the guarded update that
    follows changes every row returned, and the history and notices are written
    for exactly those."""
    return list(
        subscriptions.select_for_update(of=("self",))
        .order_by("pk")
        .values("pk", "member_id", "plan_id", "ends_at", "member__tier_state__tier_id")
    )


def _plan_notices(rows: list[dict], kind: str, as_of: dt.date) -> None:
    """Queue a notice of `kind` for each subscription row (member, plan, and for
    a reminder the plan's last day)."""
    if rows:
        messages_queue(
            messages=[
                notice_build(
                    member_id=row["member_id"],
                    kind=kind,
                    as_of=as_of,
                    plan_id=row["plan_id"],
                    until=_last_day(row["ends_at"]) if kind == PLAN_REMINDER else None,
                )
                for row in rows
            ]
        )


def _last_day(ends_at: dt.datetime) -> dt.date:
    """The last programme day a plan ending at `ends_at` runs on."""
    return (ends_at - dt.timedelta(microseconds=1)).astimezone(program_zone()).date()


def register_jobs() -> None:
    register(Job("recalc_tiers", 40, recalc_tiers, "tiers from the window's spend; grace; nudges"))
    register(Job("paid_plans", 50, paid_plans, "paid plans ending: reminders, expiries"))
