"""Points draws for the tests: a draw and its prizes."""

import itertools
from decimal import Decimal

from rewards.models import DrawPrize, Reward

_numbers = itertools.count()


def make_draw(*prizes, points=100, **kwargs):
    """A draw costing `points`; each prize a dict of DrawPrize fields (a `chance`
    in percent, a string)."""
    reward = Reward.objects.create(
        code=f"draw-{next(_numbers)}",
        name="Lucky draw",
        kind=Reward.Kind.DRAW,
        points=points,
        **kwargs,
    )
    for fields in prizes:
        fields = {"name": fields.get("kind", "gift"), "kind": DrawPrize.Kind.GIFT, **fields}
        fields["chance"] = Decimal(fields["chance"])
        DrawPrize.objects.create(reward=reward, **fields)
    return reward


COUPON = {"kind": "amount", "value": "5.00", "valid_days": 30}
