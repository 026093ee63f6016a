"""Writes of personalisation: behaviour events taken in, staff tags given and
removed. Functions are `<noun>_<verb>` with keyword-only arguments. The nightly
jobs (tags, recommendations, price protection, the purge) are in jobs.py,
tags.py, recommender.py and protection.py."""

import datetime as dt
import json
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from members.models import Member, User
from shop.errors import DomainError
from shop.models import Shop

from .models import (
    BehaviourEvent,
    BehaviourType,
    MemberTag,
    RecommendationImpression,
    TagDefinition,
)

MAX_BATCH = 1000
EVENT = BehaviourEvent._meta.db_table
MEMBER = Member._meta.db_table
IMPRESSION = RecommendationImpression._meta.db_table
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MICROSECOND = dt.timedelta(microseconds=1)
TYPES = {choice.label.replace(" ", "_"): choice.value for choice in BehaviourType}


@dataclass(frozen=True)
class BehaviourInput:
    event_id: str
    member_number: str
    type: str  # view, click, add_to_cart, search
    occurred_at: dt.datetime
    sku: str = ""
    query: str = ""


@dataclass(frozen=True)
class BehaviourResult:
    received: int
    stored: int
    duplicates: int
    unknown_members: int


class TooManyEvents(DomainError):
    code = "too_large"


def behaviour_record(*, shop: Shop, events: list[BehaviourInput]) -> BehaviourResult:
    """Store a batch of events, each once per (shop, event_id): a batch sent again,
    or one that repeats an event, stores the new ones only. Events of member
    numbers the programme does not know are counted and left out. One statement
    (INSERT ... ON CONFLICT DO NOTHING), so the batch is stored whole or not at
    all."""
    if len(events) > MAX_BATCH:
        raise TooManyEvents(
            f"A batch has at most {MAX_BATCH} events; this one has {len(events)}.",
            fields={"events": f"At most {MAX_BATCH}."},
        )
    known, stored = _insert_events(shop, events) if events else (0, 0)
    return BehaviourResult(
        received=len(events),
        stored=stored,
        duplicates=known - stored,
        unknown_members=len(events) - known,
    )


def _insert_events(shop: Shop, events: list[BehaviourInput]) -> tuple[int, int]:
    """Insert the events of known members, ignoring the (shop, event_id) already
    stored; answer how many were of known members and how many were stored.
    Plain SQL: the ORM's bulk_create cannot say how many rows ON CONFLICT DO
    NOTHING left out, and the answer counts them."""
    columns = "(shop_id, event_id, member_id, type, sku, query, occurred_at)"
    conflict = "ON CONFLICT (shop_id, event_id) DO NOTHING"
    if connection.vendor == "postgresql":
        # One round trip: the batch goes as one JSON text, read by
        # json_to_recordset and joined to the members by number in the same
        # statement (a statement of thousands of placeholders, seven arrays
        # quoted element by element, or a query for the members first, each
        # costs more than the rows to write). Times go as whole microseconds
        # since 1970, added as seconds and microseconds (an interval multiplied
        # by one number is computed in floating point: exact only to 2^53).
        batch = json.dumps(
            [
                {
                    "e": event.event_id,
                    "m": event.member_number,
                    "t": TYPES[event.type],
                    "s": event.sku,
                    "q": event.query,
                    "o": (event.occurred_at - EPOCH) // MICROSECOND,
                }
                for event in events
            ]
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                WITH batch AS (
                    SELECT b.e AS event_id, m.id AS member_id, b.t, b.s, b.q,
                           %s + b.o / 1000000 * interval '1 second'
                              + b.o %% 1000000 * interval '1 microsecond' AS o
                    FROM json_to_recordset(%s::json)
                         AS b (e text, m text, t smallint, s text, q text, o bigint)
                    JOIN {MEMBER} m ON m.number = b.m
                ), stored AS (
                    INSERT INTO {EVENT} {columns}
                    SELECT %s, event_id, member_id, t, s, q, o FROM batch
                    {conflict}
                    RETURNING 1
                )
                SELECT (SELECT count(*) FROM batch), (SELECT count(*) FROM stored)
                """,
                [EPOCH, batch, shop.pk],
            )
            known, stored = cursor.fetchone()
        return known, stored
    numbers = {event.member_number for event in events}
    members = dict(Member.objects.filter(number__in=numbers).values_list("number", "pk"))
    rows = [
        (
            shop.pk,
            event.event_id,
            members[event.member_number],
            TYPES[event.type],
            event.sku,
            event.query,
            connection.ops.adapt_datetimefield_value(event.occurred_at),
        )
        for event in events
        if event.member_number in members
    ]
    if not rows:
        return 0, 0
    values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(rows))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {EVENT} {columns} VALUES {values} {conflict}",
            [value for row in rows for value in row],
        )
        return len(rows), max(cursor.rowcount, 0)


class UnknownTag(DomainError):
    code = "not_found"


def member_tag_add(*, member: Member, code: str, actor: User | None = None) -> MemberTag:
    """Give the member the staff tag `code` (defined in TagDefinition); giving it
    again changes nothing."""
    if not TagDefinition.objects.filter(code=code).exists():
        raise UnknownTag(f"No staff tag {code!r}.", fields={"tag": "Define it first."})
    tag, _created = MemberTag.objects.get_or_create(
        member=member,
        tag=code,
        defaults={"source": MemberTag.Source.STAFF, "added_by": actor},
    )
    return tag


def member_tag_remove(*, member: Member, code: str) -> bool:
    """Take the staff tag `code` from the member (a rule's tag stays: the rule
    decides it each night)."""
    deleted, _rows = MemberTag.objects.filter(
        member=member, tag=code, source=MemberTag.Source.STAFF
    ).delete()
    return bool(deleted)


def recommendation_impressions_record(
    *, member: Member, variant: str, scene: str, product_ids: list[int]
) -> None:
    """Keep what the API showed the member, for each variant's click-through
    (one INSERT of a few narrow rows, committed without waiting for the disk)."""
    if not product_ids:
        return
    now = timezone.now()
    if connection.vendor == "postgresql":
        # One statement, its own transaction: set_config(..., true) inside it
        # lets its commit skip waiting for the write-ahead log to reach the disk
        # (an impression lost in a crash changes a ratio by nothing), with no
        # BEGIN, SET and COMMIT round trips of their own.
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {IMPRESSION} (served_at, member_id, variant, scene, product_id) "
                "SELECT %s, %s, %s, %s, shown FROM UNNEST(%s::bigint[]) AS shown, "
                "(SELECT set_config('synchronous_commit', 'off', true)) AS quick",
                [now, member.pk, variant, scene, product_ids],
            )
        return
    RecommendationImpression.objects.bulk_create(
        [
            RecommendationImpression(
                served_at=now, member_id=member.pk, variant=variant, scene=scene, product_id=pid
            )
            for pid in product_ids
        ]
    )
