"""The points draw: what one play costs, draws and issues, and what it refuses."""

import math
import random
from collections import Counter

import pytest

from points.errors import InsufficientPoints
from points.models import Entry
from points.selectors import balance_get
from rewards.errors import Conflict, RewardUnavailable
from rewards.models import Coupon, DrawPlay, DrawPrize
from rewards.selectors import draw_offers, draw_results, rewards_list
from rewards.services.draws import ODDS_SCALE, draw_odds, draw_play, prize_pick
from rewards.services.gifts import gift_ship
from rewards.services.rewards import reward_redeem
from shop.selectors import shop_default

from .conftest import member_with_points
from .draws import COUPON, make_draw

pytestmark = pytest.mark.django_db


def within_interval(count, n, p, z=3.89):
    """`count` of `n` draws is within the 99.99% interval around n * p."""
    spread = z * math.sqrt(n * p * (1 - p))
    return abs(count - n * p) <= spread


def test_ten_thousand_draws_of_a_seeded_generator_land_within_the_odds():
    draw = make_draw(
        {"name": "a", "chance": "5"}, {"name": "b", "chance": "20"}, {"name": "c", "chance": "0.5"}
    )
    odds = draw_odds(reward=draw)  # what a play reads; nothing: 74.5%
    rng = random.Random(20261201)
    n = 10_000

    drawn = Counter(getattr(odds.pick(rng.randrange(ODDS_SCALE)), "name", None) for _ in range(n))

    for name, p in [("a", 0.05), ("b", 0.20), ("c", 0.005), (None, 0.745)]:
        assert within_interval(drawn[name], n, p), (name, drawn[name])


def test_the_numbers_of_a_roll_are_counted_off_prize_by_prize():
    prizes = [("a", 500), ("b", 2000)]
    assert [prize_pick(prizes, roll) for roll in (0, 499, 500, 2499, 2500, 9999)] == [
        "a",
        "a",
        "b",
        "b",
        None,
        None,
    ]


def test_a_play_debits_the_points_records_the_odds_and_issues_the_coupon():
    member = member_with_points(1000)
    draw = make_draw({"name": "5 off", "kind": "coupon", "chance": "100", "coupon": COUPON})

    play, created = draw_play(member=member, reward_code=draw.code, key="k1")

    assert created
    assert play.status == DrawPlay.Status.WON
    assert play.odds == {
        "prizes": [{"id": play.prize_id, "name": "5 off", "chance": "100.00"}],
        "nothing": "0.00",
    }
    assert play.entry.kind == Entry.Kind.REDEEM and play.entry.amount == -100
    assert play.coupon.owner == member and play.coupon.amount_minor == 500
    assert balance_get(member=member).available == 900


def test_a_points_prize_is_credited_on_the_ledger_and_a_gift_is_to_ship():
    member = member_with_points(1000)
    points_draw = make_draw({"kind": "points", "chance": "100", "points": 250})
    gift_draw = make_draw({"kind": "gift", "chance": "100", "stock": 1})

    won, _ = draw_play(member=member, reward_code=points_draw.code, key="p")
    gift, _ = draw_play(member=member, reward_code=gift_draw.code, key="g")

    assert won.prize_entry.kind == Entry.Kind.EARN and won.prize_entry.amount == 250
    assert gift.status == DrawPlay.Status.TO_SHIP
    assert DrawPrize.objects.get(reward=gift_draw).stock == 0
    assert balance_get(member=member).available == 1000 - 100 + 250 - 100


def test_a_gift_won_ships_once_and_nothing_else_ships():
    member = member_with_points(1000)
    gift, _ = draw_play(member=member, reward_code=make_draw({"chance": "100"}).code, key="g")
    won, _ = draw_play(
        member=member,
        reward_code=make_draw({"kind": "points", "chance": "100", "points": 5}).code,
        key="p",
    )

    gift_ship(gift=gift, note="  SF Express SF42  ")

    gift = DrawPlay.objects.get(pk=gift.pk)
    assert gift.status == DrawPlay.Status.SHIPPED and gift.shipped_at is not None
    assert gift.shipping_note == "SF Express SF42"
    with pytest.raises(Conflict, match="not a gift waiting to be shipped"):
        gift_ship(gift=gift, note="again")
    with pytest.raises(Conflict):
        gift_ship(gift=won)
    assert DrawPlay.objects.get(pk=gift.pk).shipping_note == "SF Express SF42"
    assert DrawPlay.objects.get(pk=won.pk).status == DrawPlay.Status.WON


def test_a_prize_out_of_stock_leaves_the_draw_and_its_chance_wins_nothing():
    member = member_with_points(1000)
    draw = make_draw({"name": "gone", "chance": "60", "stock": 0}, {"name": "left", "chance": "10"})
    odds = draw_odds(reward=draw)
    assert [prize.name for prize, _units in odds.prizes] == ["left"]
    assert odds.nothing == 9000

    # A roll that would have been the first prize's, were it in stock, now falls
    # on "left" (the numbers are counted off among the prizes in stock).
    play, _ = draw_play(member=member, reward_code=draw.code, key="k", rng=random.Random(1))
    assert play.odds["nothing"] == "90.00"
    assert [p["name"] for p in play.odds["prizes"]] == ["left"]
    assert (play.prize is not None) == (play.roll < 1000)


def test_a_member_without_the_points_is_refused_and_nothing_is_written():
    member = member_with_points(99)
    draw = make_draw({"kind": "coupon", "chance": "100", "coupon": COUPON, "stock": 3})
    entries = Entry.objects.count()

    with pytest.raises(InsufficientPoints):
        draw_play(member=member, reward_code=draw.code, key="k")

    assert Entry.objects.count() == entries
    assert not DrawPlay.objects.exists()
    assert not Coupon.objects.exists()
    assert DrawPrize.objects.get(reward=draw).stock == 3
    assert balance_get(member=member).available == 99


def test_the_same_key_plays_once_and_another_draw_with_it_is_a_conflict():
    member = member_with_points(1000)
    draw = make_draw({"kind": "points", "chance": "50", "points": 10})
    other = make_draw({"kind": "points", "chance": "50", "points": 10})

    first, created = draw_play(member=member, reward_code=draw.code, key="same")
    again, created_again = draw_play(member=member, reward_code=draw.code, key="same")

    assert created and not created_again and again.pk == first.pk
    assert DrawPlay.objects.count() == 1
    with pytest.raises(Conflict):
        draw_play(member=member, reward_code=other.code, key="same")


def test_the_per_member_limit_counts_plays():
    member = member_with_points(1000)
    draw = make_draw({"kind": "points", "chance": "1", "points": 10}, per_member_limit=1)
    draw_play(member=member, reward_code=draw.code, key="1")

    offer = next(o for o in draw_offers(member=member) if o.reward == draw)
    assert offer.refusal is not None and offer.refusal.code == "reward_limit"
    with pytest.raises(Exception, match="1 times per member"):
        draw_play(member=member, reward_code=draw.code, key="2")


def test_a_draw_is_not_redeemed_like_a_reward_nor_listed_with_them():
    member = member_with_points(1000)
    draw = make_draw({"kind": "points", "chance": "1", "points": 10})

    with pytest.raises(RewardUnavailable):
        reward_redeem(shop=shop_default(), member=member, reward_code=draw.code, key="k")
    assert draw not in [offer.reward for offer in rewards_list(member=member)]


def test_realised_odds_count_the_plays_of_each_prize():
    member = member_with_points(10_000)
    draw = make_draw({"name": "big", "kind": "points", "chance": "50", "points": 1})
    rng = random.Random(7)
    plays = [
        draw_play(member=member, reward_code=draw.code, key=f"k{i}", rng=rng)[0] for i in range(20)
    ]
    won = sum(play.prize is not None for play in plays)

    total, rows = draw_results(reward=draw)

    assert total == 20
    assert rows[0].name == "big" and rows[0].chance == "50.00" and rows[0].wins == won
    assert rows[0].share == f"{won * 100 / 20:.2f}"
    assert rows[1].wins == 20 - won
