"""The recommender on planted structure: every algorithm beats popularity on
held-out last orders; the API never shows an inactive product or one bought in
the last 30 days (unless consumable)."""

import datetime as dt

import pytest
import time_machine
from django.core.management import call_command

from batch.services import program_midnight
from personalisation import recommender
from personalisation.evaluation import recommendations_evaluate
from personalisation.models import Algorithm, MemberRecommendation
from personalisation.selectors import recommendation_variant
from shop.models import Order, OrderLine, Product
from shop.selectors import shop_default
from tests.tiers.helpers import night

from .planted import planted

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2026, 11, 20)


@pytest.fixture(autouse=True)
def _small_als(settings):
    settings.RECOMMENDATION_ALS_FACTORS = 8
    settings.RECOMMENDATION_ALS_ITERATIONS = 15


def test_every_algorithm_beats_popularity_on_held_out_orders():
    planted(as_of=AS_OF)

    scores = {score.algorithm: score for score in recommendations_evaluate(as_of=AS_OF)}

    baseline = scores["popularity"]
    assert baseline.members == 120
    for name in ("cooccurrence", "content", "als"):
        assert scores[name].members == 120
        assert scores[name].precision > baseline.precision * 1.5, (name, scores)
        assert scores[name].recall > baseline.recall, (name, scores)
    assert all(0 < score.coverage <= 1 for score in scores.values())


def test_evaluation_leaves_the_nights_models_alone():
    planted(as_of=AS_OF, members_per_group=5)
    night("recommendations", AS_OF, chunk_size=7)
    stored = MemberRecommendation.objects.count()
    assert stored > 0

    call_command("recommendations_evaluate", "--as-of", AS_OF.isoformat())

    assert MemberRecommendation.objects.count() == stored
    from personalisation.models import Interaction, ItemNeighbour

    assert not Interaction.objects.filter(model="holdout").exists()
    assert not ItemNeighbour.objects.filter(model="holdout").exists()


def _recommend(api_client, member, **params):
    query = "&".join(f"{key}={value}" for key, value in params.items())
    response = api_client.get(f"/api/v1/members/{member.number}/recommendations?{query}")
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.parametrize("scene", ["home", "cart", "after_purchase"])
def test_the_api_never_returns_an_inactive_product_or_a_recent_purchase(
    api_client, settings, scene
):
    data = planted(as_of=AS_OF, members_per_group=8)
    night("recommendations", AS_OF, chunk_size=10)
    # Every member's variant, one after another, so each algorithm is served.
    for algorithm in Algorithm.values:
        settings.RECOMMENDATION_VARIANTS = f"{algorithm}=1"
        for member_id, _group in list(data["groups"].items())[::4]:
            from members.models import Member

            member = Member.objects.get(pk=member_id)
            with time_machine.travel(program_midnight(AS_OF) + dt.timedelta(hours=9)):
                first = _recommend(api_client, member, scene=scene, skus="P0000,P1000", limit=10)
                assert first["variant"] == algorithm
                assert first["results"]
                top = first["results"][0]["sku"]
                # The top product goes inactive; another is bought today.
                Product.objects.filter(sku=top).update(active=False)
                bought = first["results"][1]["sku"]
                order = Order.objects.create(
                    shop=shop_default(),
                    order_id=f"now-{member.pk}-{algorithm}-{scene}",
                    member=member,
                    placed_at=program_midnight(AS_OF) + dt.timedelta(hours=8),
                    currency="CNY",
                    total_minor=100,
                    fingerprint="x",
                )
                OrderLine.objects.create(order=order, sku=bought, quantity=1, amount_minor=100)

                again = _recommend(api_client, member, scene=scene, skus="P0000,P1000", limit=10)

                skus = [item["sku"] for item in again["results"]]
                assert top not in skus and bought not in skus
                assert len(skus) == 10
                inactive = set(Product.objects.filter(active=False).values_list("sku", flat=True))
                assert not inactive.intersection(skus)
                if scene == "cart":
                    assert not {"P0000", "P1000"}.intersection(skus)
                Product.objects.filter(sku=top).update(active=True)


def test_a_consumable_bought_recently_is_recommended_again(api_client, settings):
    data = planted(as_of=AS_OF, members_per_group=5)
    night("recommendations", AS_OF, chunk_size=10)
    settings.RECOMMENDATION_VARIANTS = "popularity=1"
    from members.models import Member

    member = Member.objects.get(pk=next(iter(data["groups"])))
    top = _recommend(api_client, member)["results"][0]["sku"]
    order = Order.objects.create(
        shop=shop_default(),
        order_id="tea",
        member=member,
        placed_at=dt.datetime.now(dt.UTC),
        currency="CNY",
        total_minor=100,
        fingerprint="x",
    )
    OrderLine.objects.create(order=order, sku=top, quantity=1, amount_minor=100)
    assert top not in [item["sku"] for item in _recommend(api_client, member)["results"]]

    Product.objects.filter(sku=top).update(consumable=True)

    assert top in [item["sku"] for item in _recommend(api_client, member)["results"]]


def test_a_member_without_history_gets_the_popular_products(api_client):
    planted(as_of=AS_OF, members_per_group=3)
    night("recommendations", AS_OF, chunk_size=10)
    from tests.factories import MemberFactory

    newcomer = MemberFactory()

    body = _recommend(api_client, newcomer, limit=5)

    assert body["algorithm"] == "popularity"
    assert {item["reason"] for item in body["results"]} == {"popular"}
    assert len(body["results"]) == 5


def test_variants_are_stable_and_follow_the_weights(settings):
    settings.RECOMMENDATION_VARIANTS = "als=50,cooccurrence=50"
    numbers = [f"M{n:08d}" for n in range(2000)]
    first = [recommendation_variant(member_number=n) for n in numbers]
    assert first == [recommendation_variant(member_number=n) for n in numbers]
    assert 850 < first.count("als") < 1150
    assert set(first) == {"als", "cooccurrence"}


def test_als_rows_are_stored_with_the_scores_computed():
    scores = [0.1 + 0.2, 1 / 3, 1e-05, 123456.789, 2.5e-300, -0.0]
    rows = [(7, rank, 100 + rank, score) for rank, score in enumerate(scores, start=1)]

    recommender._als_rows_insert(rows)

    stored = MemberRecommendation.objects.filter(member_id=7).order_by("rank")
    assert list(stored.values_list("member_id", "rank", "product_id", "score")) == rows
    assert {row.algorithm for row in stored} == {Algorithm.ALS}


def test_bad_queries_are_refused(api_client):
    from tests.factories import MemberFactory

    member = MemberFactory()
    url = f"/api/v1/members/{member.number}/recommendations"
    assert api_client.get(f"{url}?scene=checkout").status_code == 400
    assert api_client.get(f"{url}?limit=0").status_code == 400
    assert api_client.get(f"{url}?limt=3").status_code == 400
    assert api_client.get("/api/v1/members/M99999999/recommendations").status_code == 404
