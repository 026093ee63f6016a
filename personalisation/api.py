"""The shop API's personalisation endpoints: behaviour events in, a member's
recommendations out."""

from typing import Literal

from django.conf import settings
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import model_validator

from points.api import member_or_404
from shop.schemas import TEXT, Moment, StrictSchema, error_responses, query_known

from .selectors import recommendations_get
from .services import (
    MAX_BATCH,
    BehaviourInput,
    behaviour_record,
    recommendation_impressions_record,
)

router = Router(tags=["personalisation"])


class BehaviourEventIn(StrictSchema):
    event_id: str = Field(min_length=1, max_length=100, pattern=TEXT)
    member: str = Field(max_length=20, pattern=TEXT, description="Member number.")
    type: Literal["view", "click", "add_to_cart", "search"]
    sku: str = Field(default="", max_length=100, pattern=TEXT)
    query: str = Field(default="", max_length=200, pattern=TEXT)
    occurred_at: Moment

    @model_validator(mode="after")
    def _subject(self) -> "BehaviourEventIn":
        if self.type == "search" and not self.query:
            raise ValueError("A search needs its query.")
        if self.type != "search" and not self.sku:
            raise ValueError(f"A {self.type} needs the product's sku.")
        return self


class BehaviourIn(StrictSchema):
    events: list[BehaviourEventIn] = Field(
        min_length=1,
        max_length=MAX_BATCH,
        description=f"At most {MAX_BATCH}; a longer batch is refused whole (422).",
    )


class BehaviourOut(Schema):
    received: int
    stored: int = Field(description="New events stored.")
    duplicates: int = Field(description="Events already stored (by event_id), or repeated.")
    unknown_members: int = Field(description="Events of member numbers not known: not stored.")


@router.post(
    "/behaviour",
    response={202: BehaviourOut, **error_responses(400, 422)},
    summary="Report behaviour (views, clicks, add to cart, searches): stored, earns nothing",
)
def behaviour_create(request: HttpRequest, body: BehaviourIn) -> Status:
    result = behaviour_record(
        shop=request.auth.shop,  # type: ignore[attr-defined]
        events=[
            BehaviourInput(
                event_id=event.event_id,
                member_number=event.member,
                type=event.type,
                occurred_at=event.occurred_at,
                sku=event.sku,
                query=event.query,
            )
            for event in body.events
        ],
    )
    return Status(202, result)


class RecommendationQuery(Schema):
    scene: Literal["home", "cart", "after_purchase"] = "home"
    skus: str = Field(
        default="", max_length=2000, description="The cart's SKUs, comma-separated (scene cart)."
    )
    limit: int = Field(default=10, ge=1, le=settings.RECOMMENDATION_TOP_N)


class RecommendedOut(Schema):
    sku: str
    score: float
    reason: Literal["bought_together", "similar_members", "same_category", "popular"]


class RecommendationsOut(Schema):
    results: list[RecommendedOut]
    algorithm: str = Field(
        description="What answered: the variant's algorithm, or popularity (a cold start)."
    )
    variant: str = Field(description="The member's A/B variant (an algorithm).")


@router.get(
    "/members/{number}/recommendations",
    response={200: RecommendationsOut, **error_responses(400, 404)},
    summary="Products for a member by scene, from the nightly models",
    tags=["members"],
)
def recommendations_list(
    request: HttpRequest, number: str, query: Query[RecommendationQuery]
) -> dict:
    query_known(request, RecommendationQuery)
    member = member_or_404(number)
    skus = [sku.strip() for sku in query.skus.split(",") if sku.strip()][:100]
    found = recommendations_get(member=member, scene=query.scene, skus=skus, limit=query.limit)
    recommendation_impressions_record(
        member=member,
        variant=found.variant,
        scene=query.scene,
        product_ids=[item.product_id for item in found.results],
    )
    return {
        "results": [
            {"sku": item.sku, "score": item.score, "reason": item.reason} for item in found.results
        ],
        "algorithm": found.algorithm,
        "variant": found.variant,
    }
