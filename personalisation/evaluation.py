"""Offline evaluation of the recommender (`manage.py recommendations_evaluate`):
each member's last order in the window (members with two or more) is held out;
the models are built, as at night, from everything else (behaviour from the
held-out order's time on left out too), in rows of their own (`Model.HOLDOUT`,
deleted afterwards); each algorithm's top k for those members is compared with
what the held-out orders contained.

- precision@k: hits / k, averaged over the members;
- recall@k: hits / products in the held-out order, averaged;
- coverage: the share of the active catalogue recommended to anyone.
"""

import datetime as dt
from dataclasses import dataclass

from django.db import connection

from shop.models import Product

from . import recommender
from .models import Algorithm, Interaction, ItemNeighbour, Model

CHUNK = 10_000


@dataclass(frozen=True)
class Score:
    algorithm: str
    members: int
    precision: float
    recall: float
    coverage: float


def _score(
    algorithm: str, top: dict[int, list[int]], held: dict[int, set[int]], k: int, catalogue: int
) -> Score:
    precision = recall = 0.0
    shown: set[int] = set()
    for member_id, products in held.items():
        ranked = top.get(member_id, [])[:k]
        shown.update(ranked)
        hits = len(products.intersection(ranked))
        precision += hits / k
        recall += hits / len(products)
    members = len(held) or 1
    return Score(
        algorithm=algorithm,
        members=len(held),
        precision=precision / members,
        recall=recall / members,
        coverage=len(shown) / catalogue if catalogue else 0.0,
    )


def recommendations_evaluate(
    *, as_of: dt.date, k: int = 10, members: int | None = None
) -> list[Score]:
    """Each algorithm's precision@k, recall@k and coverage on the held-out last
    orders (of at most `members` members, the lowest ids), popularity first."""
    held = recommender.held_out(as_of=as_of)
    if members is not None:
        held = {m: held[m] for m in sorted(held)[:members]}
    try:
        factors, _counts = recommender.build(model=Model.HOLDOUT, as_of=as_of, holdout=True)
        tops: dict[str, dict[int, list[int]]] = {name: {} for name in Algorithm.values}
        popular = list(
            ItemNeighbour.objects.filter(model=Model.HOLDOUT, algorithm=Algorithm.POPULARITY)
            .order_by("rank")
            .values_list("neighbour_id", flat=True)[:k]
        )
        tops[Algorithm.POPULARITY] = {member_id: popular for member_id in held}
        ids = sorted(held)
        for first in range(0, len(ids), CHUNK):
            block = ids[first : first + CHUNK]
            wanted = set(block)
            with connection.cursor() as cursor:
                for algorithm in recommender.NEIGHBOUR_ALGORITHMS:
                    sql, params = recommender.neighbour_scores_sql(
                        model=Model.HOLDOUT,
                        algorithm=algorithm,
                        first_id=block[0],
                        last_id=block[-1],
                    )
                    cursor.execute(f"{sql} AND rk <= %s ORDER BY member_id, rk", [*params, k])
                    for member_id, _rank, product_id, _value in cursor.fetchall():
                        if member_id in wanted:
                            tops[algorithm].setdefault(member_id, []).append(product_id)
            rows = recommender.member_interactions(
                model=Model.HOLDOUT, first_id=block[0], last_id=block[-1]
            )
            found = recommender.als_member_top(
                factors=factors, rows=[row for row in rows if row[0] in wanted], n=k
            )
            for member_id, ranked in found.items():
                tops[Algorithm.ALS][member_id] = [product_id for product_id, _s in ranked]
    finally:
        Interaction.objects.filter(model=Model.HOLDOUT).delete()
        ItemNeighbour.objects.filter(model=Model.HOLDOUT).delete()
    catalogue = Product.objects.filter(active=True).count()
    order = [Algorithm.POPULARITY, Algorithm.COOCCURRENCE, Algorithm.CONTENT, Algorithm.ALS]
    return [_score(name, tops[name], held, k, catalogue) for name in order]
