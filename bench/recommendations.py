"""recommendations: the personalisation night and API at the issue's scale.

    python -m bench recommendations [--members N] [--products N] [--lines N]
                                    [--events N] [--quick] [--chunk-size N]

Defaults are the issue's: 1 million members, 50,000 products, 10 million order
lines and 50 million behaviour events (--quick: a fiftieth). The data has
planted structure (members in groups buying and browsing their group's
categories, with noise), loaded with COPY. Then:

1. behaviour ingestion: the same fresh events stored through the service the
   API calls (`behaviour_record`, batches of 1,000 with their dedupe), through
   the API itself in this process (Django's test client: parsing, validation,
   the service; no network), and by a plain COPY into the same table and
   indexes, each in events per second;
2. the nightly `recommendations` job in a child process (eager, chunks one
   after another, as `manage.py recommendations` runs it): wall time, the
   build's share, the child's peak resident set;
3. GET /api/v1/members/{number}/recommendations for random members and scenes
   in this process (test client, no network): p50 and p99.
"""

import argparse
import datetime as dt
import json
import random
import statistics
import time
from collections.abc import Iterator

from django.conf import settings
from django.test import Client
from django.utils import timezone

from batch.runner import job_run
from batch.services import program_midnight
from personalisation.models import RecommendationBuild
from personalisation.services import BehaviourInput, behaviour_record
from shop.selectors import shop_default
from shop.services import api_key_create

from .database import TimedRun, checkpoint, memory_mb, psycopg_connect, run_child, say
from .generate import begin_load, copy_members, copy_rows, reset_sequences, vacuum_analyze

AS_OF = dt.date(2026, 11, 23)
GROUPS = 50
CATEGORIES_PER_GROUP = 10
LINES_PER_ORDER = 3
EVENT_DAYS = 90
ORDER_DAYS = 365
INGEST_EVENTS = 200_000
API_REQUESTS = 2_000
TYPES = [(1, 70), (2, 20), (3, 8), (4, 2)]  # view, click, add to cart, search (per cent)


def _client(plaintext: str) -> Client:
    """An in-process client of the API with the key; the rate limit off (what is
    measured is the path, not the limit)."""
    settings.API_RATE_LIMIT = ""
    return Client(headers={"Authorization": f"Bearer {plaintext}"}, HTTP_HOST="localhost")


def _ts(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M:%S+00")


class World:
    """Members in GROUPS groups; each group's categories and products."""

    def __init__(self, *, members: int, products: int, seed: int = 11) -> None:
        self.rng = random.Random(seed)
        self.members = members
        self.products = products
        categories = GROUPS * CATEGORIES_PER_GROUP
        # Product p (1-based) is in category (p - 1) % categories; group = category // 10.
        self.categories = categories
        self.by_group: list[list[int]] = [[] for _ in range(GROUPS)]
        for p in range(1, products + 1):
            self.by_group[((p - 1) % categories) // CATEGORIES_PER_GROUP].append(p)

    def group(self, member: int) -> int:
        return member % GROUPS

    def pick(self, member: int) -> int:
        """A product for the member: their group's (skewed to the popular) or noise."""
        rng = self.rng
        pool = self.by_group[self.group(member) if rng.random() > 0.1 else rng.randrange(GROUPS)]
        return pool[min(int(rng.expovariate(1 / (len(pool) / 8))), len(pool) - 1)]


def _product_rows(world: World, now: str) -> Iterator[str]:
    for p in range(1, world.products + 1):
        category = (p - 1) % world.categories
        tags = json.dumps([f"style-{category // CATEGORIES_PER_GROUP}", f"line-{p % 7}"])
        yield (
            f"{p}\tSKU{p:06d}\tProduct {p}\tcat-{category}\t{1000 + p % 9000}\tCNY\t"
            f"{tags}\tt\tf\t\t{now}\t{now}\n"
        )


def _order_rows(world: World, orders: int, start: float, span: float) -> Iterator[str]:
    now = _ts(time.time())
    for o in range(1, orders + 1):
        member = (o * 7919) % world.members + 1
        placed = _ts(start + span * o / orders)
        yield f"{o}\tb{o}\t{member}\t{placed}\tCNY\t30000\t0\t0\t{now}\tx\t1\n"


def _line_rows(world: World, orders: int) -> Iterator[str]:
    line = 0
    for o in range(1, orders + 1):
        member = (o * 7919) % world.members + 1
        for p in {world.pick(member) for _ in range(LINES_PER_ORDER)}:
            line += 1
            yield f"{line}\t{o}\tSKU{p:06d}\tcat-{(p - 1) % world.categories}\t1\t10000\n"


def _event_rows(world: World, count: int, start: float, span: float, first: int) -> Iterator[str]:
    rng = world.rng
    kinds = [kind for kind, weight in TYPES for _ in range(weight)]
    for n in range(first, first + count):
        member = rng.randrange(1, world.members + 1)
        kind = kinds[n % 100]
        at = _ts(start + span * (n - first) / count)
        if kind == 4:
            yield f"{n}\t1\te{n}\t{member}\t4\t\tquery {n % 1000}\t{at}\n"
        else:
            yield f"{n}\t1\te{n}\t{member}\t{kind}\tSKU{world.pick(member):06d}\t\t{at}\n"


EVENT_COLUMNS = "id, shop_id, event_id, member_id, type, sku, query, occurred_at"


def load(*, members: int, products: int, lines: int, events: int) -> World:
    started = time.perf_counter()
    world = World(members=members, products=products)
    orders = max(lines // LINES_PER_ORDER, 1)
    end = program_midnight(AS_OF).timestamp()
    say(
        f"generating {members:,} members, {products:,} products, about {lines:,} order lines "
        f"in {orders:,} orders, {events:,} behaviour events"
    )
    tables = ["members_user", "members_member", "shop_product", "shop_order", "shop_orderline"]
    with psycopg_connect() as conn, conn.cursor() as cursor:
        begin_load(cursor, [*tables, "personalisation_behaviourevent"])
        copy_members(cursor, members=members, as_of=AS_OF)
        now = _ts(time.time())
        copy_rows(
            cursor,
            "shop_product",
            "id, sku, name, category, price_minor, currency, tags, active, consumable, "
            "shopify_product_id, created_at, updated_at",
            _product_rows(world, now),
        )
        copy_rows(
            cursor,
            "shop_order",
            "id, order_id, member_id, placed_at, currency, total_minor, shipping_minor, "
            "refunded_minor, created_at, fingerprint, shop_id",
            _order_rows(world, orders, end - ORDER_DAYS * 86400, ORDER_DAYS * 86400 - 3600),
        )
        copy_rows(
            cursor,
            "shop_orderline",
            "id, order_id, sku, category, quantity, amount_minor",
            _line_rows(world, orders),
        )
        copy_rows(
            cursor,
            "personalisation_behaviourevent",
            EVENT_COLUMNS,
            _event_rows(world, events, end - EVENT_DAYS * 86400, EVENT_DAYS * 86400 - 3600, 1),
        )
        reset_sequences(cursor, [*tables, "personalisation_behaviourevent"])
        conn.commit()
    vacuum_analyze([*tables, "personalisation_behaviourevent"])
    say(f"  loaded in {time.perf_counter() - started:.1f} s")
    return world


def _fresh_events(world: World, count: int, first: int) -> list[str]:
    now = timezone.now().timestamp()
    return list(_event_rows(world, count, now - 3600, 3000, first))


def _inputs(rows: list[str]) -> list[BehaviourInput]:
    kinds = {"1": "view", "2": "click", "3": "add_to_cart", "4": "search"}
    found = []
    for row in rows:
        _id, _shop, event_id, member, kind, sku, query, at = row.rstrip("\n").split("\t")
        found.append(
            BehaviourInput(
                event_id=event_id,
                member_number=f"M{int(member):08d}",
                type=kinds[kind],
                occurred_at=dt.datetime.strptime(at, "%Y-%m-%d %H:%M:%S+00").replace(tzinfo=dt.UTC),
                sku=sku,
                query=query,
            )
        )
    return found


def _ingestion(world: World, count: int, first_id: int) -> None:
    """Events per second: the service, the API in-process, a plain COPY."""
    shop = shop_default()
    figures = {}
    rows = _fresh_events(world, count, first_id)
    inputs = _inputs(rows)
    checkpoint()
    started = time.perf_counter()
    for first in range(0, len(inputs), 1000):
        behaviour_record(shop=shop, events=inputs[first : first + 1000])
    figures["service (behaviour_record, 1,000 a batch)"] = count / (time.perf_counter() - started)

    rows = _fresh_events(world, count, first_id + count)
    _key, plaintext = api_key_create(name="bench", shop=shop)
    client = _client(plaintext)
    bodies = []
    for item in _inputs(rows):
        body = {
            "event_id": item.event_id,
            "member": item.member_number,
            "type": item.type,
            "occurred_at": item.occurred_at.isoformat(),
        }
        body.update({"query": item.query} if item.type == "search" else {"sku": item.sku})
        bodies.append(body)
    checkpoint()
    started = time.perf_counter()
    for first in range(0, len(bodies), 1000):
        response = client.post(
            "/api/v1/behaviour",
            json.dumps({"events": bodies[first : first + 1000]}),
            content_type="application/json",
        )
        if response.status_code != 202:
            raise RuntimeError(response.content)
    figures["API in-process (POST /api/v1/behaviour)"] = count / (time.perf_counter() - started)

    rows = _fresh_events(world, count, first_id + 2 * count)
    checkpoint()
    started = time.perf_counter()
    with psycopg_connect() as conn, conn.cursor() as cursor:
        with cursor.copy(
            f"COPY personalisation_behaviourevent ({EVENT_COLUMNS}) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write(row)
        conn.commit()
    figures["plain COPY, same table and indexes"] = count / (time.perf_counter() - started)
    copy_rate = figures["plain COPY, same table and indexes"]
    say(f"behaviour ingestion, {count:,} fresh events each:")
    for name, rate in figures.items():
        say(f"  {name:<44} {rate:>10,.0f} events/s ({rate / copy_rate:.2f}x COPY)")


def job_child(args: argparse.Namespace) -> None:
    """`python -m bench _recommendations_job`: one timed run, as JSON."""
    before = memory_mb("VmRSS")
    started = time.perf_counter()
    run = job_run(
        name="recommendations",
        as_of=args.as_of,
        **({"chunk_size": args.chunk_size} if args.chunk_size else {}),
    )
    seconds = time.perf_counter() - started
    if run.status != "succeeded":
        raise RuntimeError(run.error)
    build = RecommendationBuild.objects.get(as_of=args.as_of)
    print(
        json.dumps(
            {
                "seconds": seconds,
                "rss_before_mb": before,
                "rss_peak_mb": memory_mb("VmHWM"),
                "build_seconds": build.seconds,
                "build": build.counts,
                "counts": run.counts,
            }
        )
    )


def _api_latency(world: World, requests: int) -> None:
    shop = shop_default()
    _key, plaintext = api_key_create(name="bench-api", shop=shop)
    client = _client(plaintext)
    rng = random.Random(5)
    scenes = ["home", "home", "cart", "after_purchase"]
    timings: list[float] = []
    for n in range(requests + 100):
        member = rng.randrange(1, world.members + 1)
        scene = scenes[n % 4]
        query = f"scene={scene}&limit=10"
        if scene == "cart":
            query += f"&skus=SKU{world.pick(member):06d},SKU{world.pick(member):06d}"
        started = time.perf_counter()
        response = client.get(f"/api/v1/members/M{member:08d}/recommendations?{query}")
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(response.content)
        if n >= 100:  # the first hundred warm the caches
            timings.append(elapsed * 1000)
    timings.sort()
    p50 = statistics.median(timings)
    p99 = timings[int(len(timings) * 0.99) - 1]
    say(
        f"GET /api/v1/members/{{number}}/recommendations, {requests:,} requests in-process: "
        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms"
    )


def main(args: argparse.Namespace) -> None:
    scale = 50 if args.quick else 1
    members, products = args.members // scale, args.products // scale
    lines, events = args.lines // scale, args.events // scale
    world = load(members=members, products=products, lines=lines, events=events)
    _ingestion(world, min(INGEST_EVENTS // scale * 5, max(events // 10, 1000)), events + 1)
    checkpoint()
    arguments = ["--as-of", str(AS_OF)]
    if args.chunk_size:
        arguments += ["--chunk-size", str(args.chunk_size)]
    found = run_child("_recommendations_job", *arguments)
    figures = TimedRun(found["seconds"], found["rss_before_mb"], found["rss_peak_mb"])
    say(
        f"recommendations job: {figures.seconds:.1f} s (the build {found['build_seconds']:.1f} s), "
        f"peak memory {figures.rss_peak_mb:,.0f} MB (+{figures.rss_growth_mb:,.0f} MB); "
        f"{found['build']}; {found['counts']}"
    )
    _api_latency(world, args.requests)
