"""The member portal's part of personalisation: the dashboard's "For you" panel
(registered in the app's ready(), like the points and tier panels)."""

from typing import Any

from django.utils import translation

from members.models import Member
from rewards.selectors import rewards_for_member
from shop.models import Product

from .selectors import recommendations_get

PANEL_REWARDS = 3
PANEL_PRODUCTS = 4


def for_you_panel(member: Member) -> dict[str, Any]:
    """The rewards the member is likeliest to want (those they can redeem now
    first), and the products the recommender picked for their home page."""
    language = translation.get_language() or ""
    offers = [offer for offer in rewards_for_member(member=member) if offer.refusal is None]
    found = recommendations_get(member=member, scene="home", skus=[], limit=PANEL_PRODUCTS)
    names = dict(
        Product.objects.filter(sku__in=[item.sku for item in found.results]).values_list(
            "sku", "name"
        )
    )
    return {
        "rewards": [
            {"name": offer.reward.name_in(language), "points": offer.reward.points}
            for offer in offers[:PANEL_REWARDS]
        ],
        "products": [names.get(item.sku, item.sku) for item in found.results],
    }
