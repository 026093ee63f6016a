"""The points draw on PostgreSQL: real races on a prize's stock, and a
thousand real plays whose prizes land within the odds (ten thousand draws of
the same odds, without the ledger, run everywhere: test_draws.py)."""

import random
from collections import Counter

import pytest

from points.selectors import balance_get
from rewards.models import DrawPlay, DrawPrize
from rewards.services.draws import draw_play
from tests.concurrency import race
from tests.factories import ledger_is_clean

from .conftest import member_with_points
from .draws import COUPON, make_draw
from .test_draws import within_interval

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_fifty_plays_at_once_against_a_prize_with_stock_three_issue_it_three_times():
    draw = make_draw(
        {"name": "rare", "kind": "coupon", "chance": "100", "coupon": COUPON, "stock": 3}
    )
    members = [member_with_points(100) for _ in range(50)]

    results = race(50, lambda i: draw_play(member=members[i], reward_code=draw.code, key="k"))

    plays = [play for play, _created in results]
    assert len(plays) == 50
    assert DrawPlay.objects.filter(prize__isnull=False).count() == 3
    assert DrawPlay.objects.filter(coupon__isnull=False).count() == 3
    assert DrawPrize.objects.get(reward=draw).stock == 0
    # The plays after the last unit was taken saw the prize out of the draw.
    assert all(play.odds["nothing"] == "100.00" for play in plays if play.prize_id is None)
    assert all(balance_get(member=m).available == 0 for m in members)
    assert ledger_is_clean()


def test_a_thousand_real_plays_on_a_seeded_generator_land_within_the_odds():
    member = member_with_points(10_000)
    draw = make_draw(
        {"name": "points", "kind": "points", "chance": "10", "points": 1},
        {"name": "gift", "kind": "gift", "chance": "2.5"},
        points=1,
    )
    rng = random.Random(17)
    n = 1_000

    for i in range(n):
        draw_play(member=member, reward_code=draw.code, key=f"k{i}", rng=rng)

    drawn = Counter(DrawPlay.objects.values_list("prize__name", flat=True))
    assert sum(drawn.values()) == n
    assert within_interval(drawn["points"], n, 0.10), drawn
    assert within_interval(drawn["gift"], n, 0.025), drawn
    assert within_interval(drawn[None], n, 0.875), drawn
    assert balance_get(member=member).available == 10_000 - n + drawn["points"]
