"""The recommender: the models the nightly `recommendations` job builds and the
member scores its chunks write, and the same code trained without each member's
last order for `manage.py recommendations_evaluate`.

A build (once a night, by the job's first chunk) writes:

1. `Interaction`: each member's interest in each product over the window
   (RECOMMENDATION_WINDOW_DAYS): 1 per order of it, 0.5 per add to cart, 0.25 per
   click, 0.1 per view; one pass over the orders and the behaviour events;
2. popularity: the products with the most interest, for a cold start;
3. co-occurrence ("bought together"), in SQL: for each product, the products
   found in the same orders, by cosine (orders with both, squared, over the
   product of each one's orders; squared so SQLite needs no square root);
4. content ("same category"): for each product, the active products of its
   category, by the tags they share (Jaccard), then popularity;
5. ALS ("similar members"): the `implicit` library's alternating least squares
   on the interactions (confidence 1 + RECOMMENDATION_ALS_ALPHA x interest), on
   the CPU; its item factors are kept on the build row, and each product's most
   similar products as neighbours.

A chunk of members then gets each member's top RECOMMENDATION_TOP_N by the
algorithm of their A/B variant (the only one the API reads for them): for
co-occurrence and content the sum, over the products the member showed interest
in, of interest x neighbour score (one INSERT ... SELECT); for ALS the member's
factors solved against the item factors (implicit's `recalculate_user`, the
step of ALS that fits users) and the best products by dot product.
Plain SQL where the ORM cannot say it (INSERT ... SELECT over aggregates and
window functions), portable between PostgreSQL and SQLite.
"""

import datetime as dt
import json
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Sum
from scipy.sparse import csr_matrix
from threadpoolctl import threadpool_limits

from batch.services import program_midnight
from members.models import Member
from shop.models import Order, OrderLine, Product

from .models import (
    Algorithm,
    BehaviourEvent,
    BehaviourType,
    Interaction,
    ItemNeighbour,
    MemberRecommendation,
)
from .selectors import recommendation_variant

INTERACTION = Interaction._meta.db_table
NEIGHBOUR = ItemNeighbour._meta.db_table
MEMBER_REC = MemberRecommendation._meta.db_table
ORDER = Order._meta.db_table
LINE = OrderLine._meta.db_table
PRODUCT = Product._meta.db_table
EVENT = BehaviourEvent._meta.db_table

# Interest per order of a product, and per behaviour event of each type.
PURCHASE_WEIGHT = 1.0
BEHAVIOUR_WEIGHTS = {
    BehaviourType.ADD_TO_CART: 0.5,
    BehaviourType.CLICK: 0.25,
    BehaviourType.VIEW: 0.1,
}
ITEM_NEIGHBOURS = 30  # neighbours kept per product and algorithm
POPULAR_KEPT = 200  # the popular products kept: what fills every short list
CONTENT_CANDIDATES = 2000  # the most popular products of a category a product is compared with
ALS_RANDOM_STATE = 42
ALS_BATCH = 2000  # members scored against every product at once
# What the build's statements may sort and hash in on PostgreSQL, per sort or hash.
BUILD_WORK_MEM = "512MB"


def _at(moment: dt.datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(moment)


@contextmanager
def _settings(**values: str) -> Iterator[None]:
    """On PostgreSQL, run the statements inside with the server settings
    `values` (SET LOCAL, in a transaction or savepoint of their own), the
    caller's values put back after them, since a SET LOCAL outlives a savepoint.
    The build's statements get BUILD_WORK_MEM: at the server's default work_mem
    (4MB) their sorts and hashes over millions of rows spill to disk in
    hundreds of batches."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        before = {}
        for name, value in values.items():
            cursor.execute("SELECT current_setting(%s)", [name])
            before[name] = cursor.fetchone()[0]
            cursor.execute("SELECT set_config(%s, %s, true)", [name, value])
        yield
        for name, value in before.items():
            cursor.execute("SELECT set_config(%s, %s, true)", [name, value])


def window(as_of: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The orders and behaviour a build reads: the window's programme days before
    the night of `as_of`."""
    end = program_midnight(as_of)
    return program_midnight(as_of - dt.timedelta(days=settings.RECOMMENDATION_WINDOW_DAYS)), end


def _held_out_sql() -> str:
    """Each member's last order in the window (of members with two or more): what
    the evaluation holds out. Parameters: the window's start and end."""
    return f"""
        SELECT id, member_id, placed_at FROM (
            SELECT o.id, o.member_id, o.placed_at,
                ROW_NUMBER() OVER (PARTITION BY o.member_id
                                   ORDER BY o.placed_at DESC, o.id DESC) AS rn,
                COUNT(*) OVER (PARTITION BY o.member_id) AS n
            FROM {ORDER} o
            WHERE o.placed_at >= %s AND o.placed_at < %s AND o.total_minor > o.refunded_minor
        ) last_orders WHERE rn = 1 AND n >= 2
    """


def held_out(*, as_of: dt.date) -> dict[int, set[int]]:
    """The products of each member's held-out order, by member id."""
    start, end = window(as_of)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT h.member_id, p.id FROM ({_held_out_sql()}) h
            JOIN {LINE} l ON l.order_id = h.id
            JOIN {PRODUCT} p ON p.sku = l.sku
            """,
            [_at(start), _at(end)],
        )
        found: dict[int, set[int]] = defaultdict(set)
        for member_id, product_id in cursor.fetchall():
            found[member_id].add(product_id)
    return found


def _orders_filter(holdout: bool) -> str:
    """The orders a model learns from (o: the order): counted ones in the window,
    without the held-out last orders when evaluating."""
    where = "o.placed_at >= %s AND o.placed_at < %s AND o.total_minor > o.refunded_minor"
    if holdout:
        where += " AND o.id NOT IN (SELECT id FROM held)"
    return where


def _with(holdout: bool, *ctes: str) -> str:
    """A WITH clause of `ctes`, after the held-out orders' when evaluating."""
    held = [f"held AS ({_held_out_sql()})"] if holdout else []
    return "WITH " + ", ".join([*held, *ctes]) if held or ctes else ""


def interactions_build(*, model: str, as_of: dt.date, holdout: bool) -> int:
    """Replace the model's interactions: one pass over the window's orders and
    behaviour. When evaluating, behaviour from the held-out order's time on is
    left out too (it would tell the answer).

    The rows are grouped sorted and written in member order: the member index
    then grows at its end instead of at random pages (which, once it outgrows
    the server's buffers, reads a page from disk per row). On PostgreSQL the
    sort gets BUILD_WORK_MEM and hash aggregation is off: a sort is needed for
    the order anyway, and grouping sorted rows takes no memory of its own,
    where a hash of tens of millions of groups outgrows any work_mem and spills."""
    start, end = window(as_of)
    weights = " ".join(f"WHEN {kind} THEN {weight}" for kind, weight in BEHAVIOUR_WEIGHTS.items())
    behaviour_cut = "AND (h.placed_at IS NULL OR b.occurred_at < h.placed_at)" if holdout else ""
    held_join = "LEFT JOIN held h ON h.member_id = b.member_id" if holdout else ""
    held_params = [_at(start), _at(end)] if holdout else []
    Interaction.objects.filter(model=model).delete()
    with _settings(work_mem=BUILD_WORK_MEM, enable_hashagg="off"), connection.cursor() as cursor:
        cursor.execute(
            f"""
            {_with(holdout)}
            INSERT INTO {INTERACTION} (model, member_id, product_id, weight)
            SELECT %s, x.member_id, p.id, SUM(x.w)
            FROM (
                SELECT o.member_id, l.sku, {PURCHASE_WEIGHT} AS w
                FROM {ORDER} o JOIN {LINE} l ON l.order_id = o.id
                WHERE {_orders_filter(holdout)} AND l.sku <> ''
                UNION ALL
                SELECT b.member_id, b.sku, CASE b.type {weights} ELSE 0 END AS w
                FROM {EVENT} b {held_join}
                WHERE b.occurred_at >= %s AND b.occurred_at < %s AND b.sku <> ''
                    AND b.type IN ({", ".join(str(kind.value) for kind in BEHAVIOUR_WEIGHTS)})
                    {behaviour_cut}
            ) x JOIN {PRODUCT} p ON p.sku = x.sku
            GROUP BY x.member_id, p.id
            ORDER BY x.member_id, p.id
            """,
            [*held_params, model, _at(start), _at(end), _at(start), _at(end)],
        )
        return max(cursor.rowcount, 0)


def popularity_build(*, model: str) -> int:
    """The POPULAR_KEPT most popular active products: the most members
    interested, then the most interest."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {NEIGHBOUR} (model, algorithm, product_id, rank, neighbour_id, score)
            SELECT %s, %s, NULL, rk, product_id, score FROM (
                SELECT i.product_id, COUNT(*) AS score,
                    ROW_NUMBER() OVER (ORDER BY COUNT(*) DESC, SUM(i.weight) DESC,
                                       i.product_id) AS rk
                FROM {INTERACTION} i JOIN {PRODUCT} p ON p.id = i.product_id
                WHERE i.model = %s AND p.active
                GROUP BY i.product_id
            ) ranked WHERE rk <= %s
            """,
            [model, Algorithm.POPULARITY, model, POPULAR_KEPT],
        )
        return max(cursor.rowcount, 0)


_COOCCURRENCE_CTES = (
    """lines AS (
        SELECT DISTINCT l.order_id, p.id AS product_id, p.active
        FROM {order} o JOIN {line} l ON l.order_id = o.id
        JOIN {product} p ON p.sku = l.sku
        WHERE {orders})""",
    "counts AS (SELECT product_id, COUNT(*) AS n FROM lines GROUP BY product_id)",
    """pairs AS (
        SELECT a.product_id AS a, b.product_id AS b, COUNT(*) AS n
        FROM lines a JOIN lines b ON b.order_id = a.order_id AND b.product_id <> a.product_id
        WHERE b.active
        GROUP BY a.product_id, b.product_id)""",
    """scored AS (
        SELECT pairs.a, pairs.b, 1.0 * pairs.n * pairs.n / (ca.n * cb.n) AS score,
            ROW_NUMBER() OVER (PARTITION BY pairs.a
                ORDER BY 1.0 * pairs.n * pairs.n / (ca.n * cb.n) DESC, pairs.b) AS rk
        FROM pairs JOIN counts ca ON ca.product_id = pairs.a
        JOIN counts cb ON cb.product_id = pairs.b)""",
)


def cooccurrence_build(*, model: str, as_of: dt.date, holdout: bool) -> int:
    """Bought together: for each product, the active products most often in the
    same orders, by (orders with both)^2 / (orders with one x orders with the
    other), top ITEM_NEIGHBOURS. One statement."""
    start, end = window(as_of)
    ctes = [
        cte.format(order=ORDER, line=LINE, product=PRODUCT, orders=_orders_filter(holdout))
        for cte in _COOCCURRENCE_CTES
    ]
    with _settings(work_mem=BUILD_WORK_MEM), connection.cursor() as cursor:
        cursor.execute(
            f"""
            {_with(holdout, *ctes)}
            INSERT INTO {NEIGHBOUR} (model, algorithm, product_id, rank, neighbour_id, score)
            SELECT %s, %s, a, rk, b, score FROM scored WHERE rk <= %s
            """,
            [
                *([_at(start), _at(end)] if holdout else []),
                _at(start),
                _at(end),
                model,
                Algorithm.COOCCURRENCE,
                ITEM_NEIGHBOURS,
            ],
        )
        return max(cursor.rowcount, 0)


def content_build(*, model: str) -> int:
    """Same category: for each product, the active products of its category that
    share the most of its tags (Jaccard), then the most popular (by the model's
    interactions); compared with the CONTENT_CANDIDATES most popular of the
    category. Computed with numpy, a category at a time, in blocks.

    A product's popularity is its interactions' weights summed by the database
    and rounded to 6 decimals: a sum of floats depends on the order it is taken
    in, and unrounded, equally popular products would break their ties by that
    order rather than by id."""
    popularity = {
        product_id: round(total, 6)
        for product_id, total in Interaction.objects.filter(model=model)
        .values("product_id")
        .annotate(total=Sum("weight"))
        .values_list("product_id", "total")
    }
    by_category: dict[str, list[tuple[int, list[str], bool]]] = defaultdict(list)
    for product_id, category, tags, active in Product.objects.exclude(category="").values_list(
        "id", "category", "tags", "active"
    ):
        by_category[category].append((product_id, tags or [], active))
    top = max(popularity.values(), default=1.0) or 1.0
    rows: list[ItemNeighbour] = []
    written = 0
    for products in by_category.values():
        candidates = sorted(
            (p for p in products if p[2]), key=lambda p: (-popularity.get(p[0], 0.0), p[0])
        )[:CONTENT_CANDIDATES]
        if not candidates:
            continue
        vocabulary = {tag: n for n, tag in enumerate(sorted({t for p in products for t in p[1]}))}
        tags = np.zeros((len(products), max(len(vocabulary), 1)), dtype=np.float32)
        for row, (_id, product_tags, _active) in enumerate(products):
            for tag in product_tags:
                tags[row, vocabulary[tag]] = 1.0
        index = {p[0]: n for n, p in enumerate(products)}
        candidate_rows = np.array([index[p[0]] for p in candidates])
        candidate_ids = np.array([p[0] for p in candidates])
        sizes = tags.sum(axis=1)
        bonus = np.array([popularity.get(p[0], 0.0) / top for p in candidates]) * 0.01
        for first in range(0, len(products), 1000):
            block = products[first : first + 1000]
            shared = tags[first : first + 1000] @ tags[candidate_rows].T
            union = sizes[first : first + 1000, None] + sizes[candidate_rows][None, :] - shared
            scores = np.where(union > 0, shared / np.maximum(union, 1), 0.0) + 0.5 + bonus
            for offset, product in enumerate(block):
                scores[offset, candidate_ids == product[0]] = -np.inf
            for product, ranked in zip(block, _top(scores, ITEM_NEIGHBOURS), strict=True):
                rows.extend(
                    ItemNeighbour(
                        model=model,
                        algorithm=Algorithm.CONTENT,
                        product_id=product[0],
                        rank=rank,
                        neighbour_id=int(candidate_ids[column]),
                        score=score,
                    )
                    for rank, (column, score) in enumerate(ranked, start=1)
                )
            ItemNeighbour.objects.bulk_create(rows, batch_size=5000)
            written += len(rows)
            rows = []
    return written


def _top(scores: np.ndarray, n: int) -> list[list[tuple[int, float]]]:
    """The best `n` finite (column, score) of each row, best first."""
    n = min(n, scores.shape[1])
    if n == 0:
        return [[] for _row in scores]
    best = np.argpartition(-scores, n - 1, axis=1)[:, :n]
    ranked = []
    for row, columns in enumerate(best):
        order = sorted(columns.tolist(), key=lambda c: (-scores[row, c], c))
        ranked.append([(c, float(scores[row, c])) for c in order if np.isfinite(scores[row, c])])
    return ranked


@dataclass
class Factors:
    """ALS item factors: `item_ids[i]` is the product of row i of `items`."""

    item_ids: np.ndarray
    items: np.ndarray

    def solver(self) -> Any:
        """An ALS model holding these item factors, to fit members' factors to."""
        als = _als(factors=self.items.shape[1])
        als.item_factors = self.items
        return als


def _als(*, factors: int) -> Any:
    from implicit.cpu.als import AlternatingLeastSquares

    # implicit runs threads of its own and warns when BLAS would run more: BLAS
    # is kept to one thread wherever implicit works.
    with threadpool_limits(1, "blas"):
        return AlternatingLeastSquares(
            factors=factors,
            iterations=settings.RECOMMENDATION_ALS_ITERATIONS,
            regularization=ALS_REGULARIZATION,
            alpha=settings.RECOMMENDATION_ALS_ALPHA,
            random_state=ALS_RANDOM_STATE,
        )


ALS_REGULARIZATION = 0.05


def _interaction_matrix(
    rows: list[tuple[int, int, float]], item_index: dict[int, int]
) -> tuple[list[int], csr_matrix]:
    """(members, a members x items matrix of interest) from (member, product,
    weight) rows; products outside `item_index` are left out."""
    members = sorted({member for member, _p, _w in rows})
    member_index = {member: n for n, member in enumerate(members)}
    kept = [(member_index[m], item_index[p], w) for m, p, w in rows if p in item_index]
    matrix = csr_matrix(
        (
            np.array([w for _m, _p, w in kept], dtype=np.float32),
            (
                np.array([m for m, _p, _w in kept], dtype=np.int64),
                np.array([p for _m, p, _w in kept], dtype=np.int64),
            ),
        ),
        shape=(len(members), len(item_index)),
        dtype=np.float32,
    )
    return members, matrix


def als_train(*, model: str) -> Factors:
    """Fit ALS (implicit, on the CPU) on all of the model's interactions."""
    rows = list(
        Interaction.objects.filter(model=model).values_list("member_id", "product_id", "weight")
    )
    item_ids = np.array(sorted({p for _m, p, _w in rows}), dtype=np.int64)
    item_index = {int(p): n for n, p in enumerate(item_ids)}
    _members, matrix = _interaction_matrix(rows, item_index)
    size = settings.RECOMMENDATION_ALS_FACTORS
    if not matrix.nnz:
        return Factors(item_ids=item_ids, items=np.zeros((0, size), dtype=np.float32))
    als = _als(factors=size)
    with threadpool_limits(1, "blas"):
        als.fit(matrix, show_progress=False)
    return Factors(item_ids=item_ids, items=np.asarray(als.item_factors, dtype=np.float32))


def _inactive(item_ids: np.ndarray) -> np.ndarray:
    active = set(
        Product.objects.filter(active=True, id__in=item_ids.tolist()).values_list("id", flat=True)
    )
    return np.array([int(p) not in active for p in item_ids], dtype=bool)


def als_neighbours_build(*, model: str, factors: Factors) -> int:
    """Each product's most similar active products by ALS (cosine of their
    factors): the cart scene's neighbours for the ALS variant."""
    if not len(factors.item_ids):
        return 0
    inactive = _inactive(factors.item_ids)
    norms = np.linalg.norm(factors.items, axis=1)
    unit = factors.items / np.maximum(norms, 1e-9)[:, None]
    written = 0
    for first in range(0, len(unit), ALS_BATCH):
        scores = unit[first : first + ALS_BATCH] @ unit.T
        scores[:, inactive] = -np.inf
        for offset in range(scores.shape[0]):
            scores[offset, first + offset] = -np.inf
        rows = [
            ItemNeighbour(
                model=model,
                algorithm=Algorithm.ALS,
                product_id=int(factors.item_ids[first + offset]),
                rank=rank,
                neighbour_id=int(factors.item_ids[column]),
                score=score,
            )
            for offset, ranked in enumerate(_top(scores, ITEM_NEIGHBOURS))
            for rank, (column, score) in enumerate(ranked, start=1)
        ]
        ItemNeighbour.objects.bulk_create(rows, batch_size=5000)
        written += len(rows)
    return written


def member_interactions(*, model: str, first_id: int, last_id: int) -> list[tuple[int, int, float]]:
    return list(
        Interaction.objects.filter(
            model=model, member_id__gte=first_id, member_id__lte=last_id
        ).values_list("member_id", "product_id", "weight")
    )


def als_member_top(
    *, factors: Factors, rows: list[tuple[int, int, float]], n: int
) -> dict[int, list[tuple[int, float]]]:
    """Each member's best `n` active products by ALS: their factors fitted to
    their interactions against the item factors (ALS's own user step), then dot
    products with every product."""
    if not rows or not len(factors.item_ids):
        return {}
    item_index = {int(p): i for i, p in enumerate(factors.item_ids)}
    members, matrix = _interaction_matrix(rows, item_index)
    solver = factors.solver()
    inactive = _inactive(factors.item_ids)
    found: dict[int, list[tuple[int, float]]] = {}
    for first in range(0, len(members), ALS_BATCH):
        batch = np.arange(first, min(first + ALS_BATCH, len(members)))
        with threadpool_limits(1, "blas"):
            users = np.asarray(solver.recalculate_user(batch, matrix[batch]), dtype=np.float32)
        scores = users.reshape(len(batch), -1) @ factors.items.T
        scores[:, inactive] = -np.inf
        for row, ranked in zip(batch, _top(scores, n), strict=True):
            found[members[row]] = [(int(factors.item_ids[c]), s) for c, s in ranked]
    return found


def _among(column: str, ids: list[int] | None) -> tuple[str, list]:
    """SQL keeping the rows whose `column` is one of `ids` (all when None), one
    parameter whatever their number."""
    if ids is None:
        return "", []
    if connection.vendor == "postgresql":
        return f"AND {column} = ANY(%s)", [ids]
    return f"AND {column} IN (SELECT value FROM json_each(%s))", [json.dumps(ids)]


def neighbour_scores_sql(
    *, model: str, algorithm: str, first_id: int, last_id: int, members: list[int] | None = None
) -> tuple[str, list]:
    """SELECT member_id, rk, product_id, score: each member's best
    RECOMMENDATION_TOP_N products by `algorithm`'s neighbours of what they showed
    interest in (interest x neighbour score, summed), of the members
    `first_id`..`last_id` (only `members` of them, when given)."""
    among, among_params = _among("i.member_id", members)
    sql = f"""
        SELECT member_id, rk, product_id, score FROM (
            SELECT i.member_id, n.neighbour_id AS product_id, SUM(i.weight * n.score) AS score,
                ROW_NUMBER() OVER (PARTITION BY i.member_id
                    ORDER BY SUM(i.weight * n.score) DESC, n.neighbour_id) AS rk
            FROM {INTERACTION} i
            JOIN {NEIGHBOUR} n ON n.model = i.model AND n.algorithm = %s
                AND n.product_id = i.product_id
            WHERE i.model = %s AND i.member_id BETWEEN %s AND %s {among}
            GROUP BY i.member_id, n.neighbour_id
        ) ranked WHERE rk <= %s
    """
    params = [algorithm, model, first_id, last_id, *among_params]
    return sql, [*params, settings.RECOMMENDATION_TOP_N]


NEIGHBOUR_ALGORITHMS = (Algorithm.COOCCURRENCE, Algorithm.CONTENT)


def _analyze(*tables: str) -> None:
    """Fresh statistics of the rows just written, on PostgreSQL: otherwise the
    planner, which thinks the tables empty or as they were, joins them by nested
    loops (minutes instead of seconds)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {', '.join(tables)}")


def build(*, model: str, as_of: dt.date, holdout: bool) -> tuple[Factors, dict[str, Any]]:
    """Rebuild the model's interactions and item neighbours (every algorithm) and
    train ALS: the night's (or the evaluation's) models. The counts say how long
    each step took (`step_seconds`)."""
    started = clock = time.monotonic()
    steps: dict[str, float] = {}

    def lap(step: str) -> None:
        nonlocal clock
        now = time.monotonic()
        steps[step] = round(now - clock, 1)
        clock = now

    ItemNeighbour.objects.filter(model=model).delete()
    counts: dict[str, Any] = {
        "interactions": interactions_build(model=model, as_of=as_of, holdout=holdout)
    }
    _analyze(INTERACTION)
    lap("interactions")
    counts["popular"] = popularity_build(model=model)
    lap("popularity")
    counts["cooccurrence_pairs"] = cooccurrence_build(model=model, as_of=as_of, holdout=holdout)
    lap("cooccurrence")
    counts["content_pairs"] = content_build(model=model)
    lap("content")
    factors = als_train(model=model)
    lap("als_train")
    counts["als_pairs"] = als_neighbours_build(model=model, factors=factors)
    _analyze(NEIGHBOUR)
    lap("als_neighbours")
    counts["step_seconds"] = steps
    counts["seconds"] = round(time.monotonic() - started, 3)
    return factors, counts


def _array(values: Iterable[float]) -> str:
    """A PostgreSQL array literal of numbers ('{1,2.5}'): Python's shortest
    text of each, which reads back as the same number."""
    return "{" + ",".join(map(str, values)) + "}"


def _als_rows_insert(rows: list[tuple[int, int, int, float]]) -> None:
    """Write the ALS variant's (member, rank, product, score) rows: on PostgreSQL
    one INSERT of four arrays through UNNEST, each array sent as one literal
    built here (a list parameter is quoted element by element, most of a
    chunk's insert), elsewhere the ORM's bulk_create."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        MemberRecommendation.objects.bulk_create(
            [
                MemberRecommendation(
                    member_id=m, algorithm=Algorithm.ALS, rank=r, product_id=p, score=score
                )
                for m, r, p, score in rows
            ],
            batch_size=5000,
        )
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {MEMBER_REC} (member_id, algorithm, rank, product_id, score) "
            "SELECT m, %s, r, p, s FROM UNNEST(%s::bigint[], %s::int[], %s::bigint[], "
            "%s::float8[]) AS rows (m, r, p, s)",
            [Algorithm.ALS.value, *(_array(column) for column in zip(*rows, strict=True))],
        )


def members_recommend(*, model: str, factors: Factors, first_id: int, last_id: int) -> int:
    """Replace the stored recommendations of members `first_id`..`last_id`: each
    member's top RECOMMENDATION_TOP_N by the algorithm of their A/B variant, the
    only one the API reads for them (popularity is read from the item rows)."""
    by_variant: dict[str, list[int]] = defaultdict(list)
    for member_id, number in Member.objects.filter(id__gte=first_id, id__lte=last_id).values_list(
        "id", "number"
    ):
        by_variant[recommendation_variant(member_number=number)].append(member_id)
    MemberRecommendation.objects.filter(member_id__gte=first_id, member_id__lte=last_id).delete()
    written = 0
    with connection.cursor() as cursor:
        for algorithm in NEIGHBOUR_ALGORITHMS:
            if not by_variant[algorithm]:
                continue
            sql, params = neighbour_scores_sql(
                model=model,
                algorithm=algorithm,
                first_id=first_id,
                last_id=last_id,
                members=by_variant[algorithm],
            )
            cursor.execute(
                f"INSERT INTO {MEMBER_REC} (member_id, rank, product_id, score, algorithm) "
                f"SELECT member_id, rk, product_id, score, %s FROM ({sql}) scores",
                [algorithm, *params],
            )
            written += max(cursor.rowcount, 0)
    wanted = set(by_variant[Algorithm.ALS])
    rows = [
        row
        for row in member_interactions(model=model, first_id=first_id, last_id=last_id)
        if row[0] in wanted
    ]
    top = als_member_top(factors=factors, rows=rows, n=settings.RECOMMENDATION_TOP_N)
    als_rows = [
        (member_id, rank, product_id, score)
        for member_id, ranked in top.items()
        for rank, (product_id, score) in enumerate(ranked, start=1)
    ]
    _als_rows_insert(als_rows)
    return written + len(als_rows)
