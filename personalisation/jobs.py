"""The nightly jobs of personalisation, run per chunk of member ids by the batch
framework: `tags` (tags.py), `price_protection` (protection.py),
`recommendations` and `behaviour_purge`.

`recommendations`: the first chunk of a night to come builds the models
(recommender.build) under the build row's unique day, in its transaction: the
other chunks wait on that row and then use what it built, and a second run of the
night reuses it. Each chunk then replaces its members' stored recommendations.
The build also sums the day before's impressions and clicks per variant.
"""

import datetime as dt

import numpy as np
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from batch.registry import Job, register
from batch.services import program_midnight
from shop.models import Product

from . import recommender
from .models import (
    BehaviourEvent,
    BehaviourType,
    Model,
    RecommendationBuild,
    RecommendationImpression,
    RecommendationStat,
)
from .protection import price_protection
from .tags import tags

EVENT = BehaviourEvent._meta.db_table
IMPRESSION = RecommendationImpression._meta.db_table
PRODUCT = Product._meta.db_table
CLICK_WINDOW = dt.timedelta(days=1)


def _factors(build: RecommendationBuild) -> recommender.Factors:
    items = np.frombuffer(bytes(build.item_factors), dtype=np.float32).copy()
    return recommender.Factors(
        item_ids=np.array(build.item_ids, dtype=np.int64),
        items=items.reshape(len(build.item_ids), build.factors) if build.factors else items,
    )


def recommendation_build(*, as_of: dt.date) -> RecommendationBuild:
    """The night's models: built now by the first caller, in its transaction;
    a concurrent caller waits on the build row's unique day and then reads it."""
    found = RecommendationBuild.objects.filter(as_of=as_of).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            build = RecommendationBuild.objects.create(as_of=as_of)
            factors, counts = recommender.build(model=Model.NIGHT, as_of=as_of, holdout=False)
            counts["variants_counted"] = recommendation_stats_count(day=as_of - dt.timedelta(1))
            build.seconds = counts.pop("seconds")
            build.counts = counts
            build.factors = factors.items.shape[1] if len(factors.item_ids) else 0
            build.item_ids = factors.item_ids.tolist()
            build.item_factors = factors.items.astype(np.float32).tobytes()
            build.built_at = timezone.now()
            build.save()
            # The factors of older nights are of no more use.
            RecommendationBuild.objects.exclude(pk=build.pk).update(item_factors=b"", item_ids=[])
    except IntegrityError:
        return RecommendationBuild.objects.get(as_of=as_of)
    return build


def recommendation_stats_count(*, day: dt.date) -> int:
    """Each variant's impressions on the programme day `day` and how many of them
    the member clicked or put in the cart within CLICK_WINDOW: one statement,
    replacing the day's rows."""
    start, end = program_midnight(day), program_midnight(day + dt.timedelta(1))
    adapt = connection.ops.adapt_datetimefield_value
    RecommendationStat.objects.filter(day=day).delete()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {RecommendationStat._meta.db_table} (day, variant, impressions, clicks)
            SELECT %s, i.variant, COUNT(*), SUM(CASE WHEN EXISTS (
                SELECT 1 FROM {EVENT} b JOIN {PRODUCT} p ON p.sku = b.sku
                WHERE b.member_id = i.member_id AND p.id = i.product_id
                    AND b.type IN (%s, %s)
                    AND b.occurred_at >= i.served_at AND b.occurred_at < %s
            ) THEN 1 ELSE 0 END)
            FROM {IMPRESSION} i
            WHERE i.served_at >= %s AND i.served_at < %s
            GROUP BY i.variant
            """,
            [
                connection.ops.adapt_datefield_value(day),
                BehaviourType.CLICK.value,
                BehaviourType.ADD_TO_CART.value,
                adapt(end + CLICK_WINDOW),
                adapt(start),
                adapt(end),
            ],
        )
        return max(cursor.rowcount, 0)


def recommendations(as_of: dt.date, first_id: int, last_id: int) -> dict[str, int]:
    build = recommendation_build(as_of=as_of)
    written = recommender.members_recommend(
        model=Model.NIGHT, factors=_factors(build), first_id=first_id, last_id=last_id
    )
    return {"recommendations_written": written}


def behaviour_purge(as_of: dt.date, first_id: int, last_id: int) -> dict[str, int]:
    """Delete the behaviour events and impressions of the chunk's members older
    than BEHAVIOUR_RETENTION_DAYS before the night."""
    cutoff = program_midnight(as_of - dt.timedelta(days=settings.BEHAVIOUR_RETENTION_DAYS))
    events, _kinds = BehaviourEvent.objects.filter(
        occurred_at__lt=cutoff, member_id__gte=first_id, member_id__lte=last_id
    ).delete()
    shown, _kinds = RecommendationImpression.objects.filter(
        served_at__lt=cutoff, member_id__gte=first_id, member_id__lte=last_id
    ).delete()
    return {"behaviour_purged": events, "impressions_purged": shown}


def register_jobs() -> None:
    register(Job("price_protection", 55, price_protection, "price drops after orders: coupons"))
    register(Job("tags", 65, tags, "members' profile tags from their orders and behaviour"))
    register(Job("recommendations", 100, recommendations, "recommender models and top N"))
    register(Job("behaviour_purge", 110, behaviour_purge, "behaviour past its retention"))
