"""Points draws (積分抽獎): a reward of kind `draw` is played, not redeemed.

A play is one transaction under the member's balance-row lock: the refusals of
any reward (dates, tier, per-member limit, points) are checked, the points are
debited through the ledger's one write path (`points.services`), a number is
drawn with `secrets` among the prizes in stock, the prize's stock is taken by a
conditional UPDATE (`stock > 0`) and the prize is issued (a coupon, points on
the ledger, or a gift to ship). The odds in force, read in that transaction,
are recorded with the play. Any refusal undoes all of it.

Chances are kept in hundredths of a percent: a roll is a whole number below
ODDS_SCALE, and each prize in stock covers as many numbers as its chance; what
the prizes in stock leave uncovered wins nothing. A prize that runs out between
reading the odds and taking its stock (another play took the last one) is not
given: the play draws again among what is left, with the odds then in force.
"""

import datetime as dt
import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from batch.services import program_today
from members.models import Member
from points.models import Entry
from points.services import Source, lock_account, points_earn

from ..documents import coupon_terms_parse
from ..errors import Conflict, Invalid, NotFound
from ..models import Coupon, DrawPlay, DrawPrize, Reward
from .coupons import CouponSpec, coupon_create, coupon_expiry
from .rewards import reward_points_spend

ODDS_SCALE = 10_000  # a chance of 1 is 0.01%

T = TypeVar("T")


def chance_units(chance: Decimal) -> int:
    """A prize's chance in percent as the numbers of a roll it covers."""
    return int(chance * ODDS_SCALE / 100)


def units_percent(units: int) -> str:
    return f"{Decimal(units) * 100 / ODDS_SCALE:.2f}"


@dataclass(frozen=True)
class Odds:
    """The prizes in stock, in a fixed order, each with the numbers it covers."""

    prizes: tuple[tuple[DrawPrize, int], ...]

    @property
    def nothing(self) -> int:
        return max(ODDS_SCALE - sum(units for _prize, units in self.prizes), 0)

    def pick(self, roll: int) -> DrawPrize | None:
        """The prize a roll (0 <= roll < ODDS_SCALE) draws, or None."""
        return prize_pick(self.prizes, roll)

    def as_record(self) -> dict:
        """What a play keeps: each prize's id, name and chance, and nothing's."""
        return {
            "prizes": [
                {"id": prize.pk, "name": prize.name, "chance": units_percent(units)}
                for prize, units in self.prizes
            ],
            "nothing": units_percent(self.nothing),
        }


def prize_pick(prizes: Sequence[tuple[T, int]], roll: int) -> T | None:
    """The prize whose numbers hold `roll`, counting them off in order."""
    for prize, units in prizes:
        if roll < units:
            return prize
        roll -= units
    return None


def draw_odds(*, reward: Reward) -> Odds:
    """The odds in force now: the draw's active prizes in stock, by id."""
    prizes = DrawPrize.objects.filter(reward=reward, active=True).filter(
        Q(stock__isnull=True) | Q(stock__gt=0)
    )
    return Odds(tuple((prize, chance_units(prize.chance)) for prize in prizes.order_by("pk")))


def _draw(reward: Reward, rng: random.Random) -> tuple[Odds, int, DrawPrize | None]:
    """Draw a prize and take a unit of its stock. Each pass that loses the race
    for a prize's last unit reads the odds again, now without it, so the loop
    ends once no prize it draws runs out under it."""
    while True:
        odds = draw_odds(reward=reward)
        roll = rng.randrange(ODDS_SCALE)
        prize = odds.pick(roll)
        if prize is None or prize.stock is None:
            return odds, roll, prize
        taken = DrawPrize.objects.filter(pk=prize.pk, stock__gt=0).update(stock=F("stock") - 1)
        if taken:
            return odds, roll, prize


def _prize_coupon_spec(prize: DrawPrize, issued_on: dt.date) -> CouponSpec:
    terms = coupon_terms_parse(prize.coupon)
    last_day = issued_on + dt.timedelta(days=terms.valid_days - 1)
    return terms.spec(expires_at=coupon_expiry(last_day=last_day))


def draw_play(
    *, member: Member, reward_code: str, key: str, rng: random.Random | None = None
) -> tuple[DrawPlay, bool]:
    """Play a points draw once; returns (play, created). The same key again
    returns the first play (a form sent twice plays once). `rng` is for tests
    (a seeded generator); plays draw with `secrets`."""
    reward = (
        Reward.objects.select_related("min_tier")
        .filter(code=reward_code, kind=Reward.Kind.DRAW)
        .first()
    )
    if reward is None:
        raise NotFound(f"No points draw has the code {reward_code[:50]!r}.")
    rng = rng or secrets.SystemRandom()
    now = timezone.now()
    with transaction.atomic():
        account = lock_account(member_id=member.pk)
        earlier = DrawPlay.objects.filter(member=member, key=key).first()
        if earlier is not None:
            if earlier.reward_id != reward.pk:
                raise Conflict(f"Key {key!r} was used to play another draw.")
            return earlier, False
        entry = reward_points_spend(
            member=member,
            available=account.available,
            reward=reward,
            redeemed=DrawPlay.objects.filter(member=member, reward=reward).count(),
            key=f"draw:{key}",
            reason=f"draw {reward.code}",
            now=now,
        )
        odds, roll, prize = _draw(reward, rng)
        play = DrawPlay(
            member=member,
            reward=reward,
            key=key,
            points=reward.points,
            odds=odds.as_record(),
            roll=roll,
            prize=prize,
            status=DrawPlay.Status.LOST if prize is None else DrawPlay.Status.WON,
            entry=entry,
        )
        if prize is not None and prize.kind == DrawPrize.Kind.COUPON:
            play.coupon = coupon_create(
                spec=_prize_coupon_spec(prize, program_today()),
                source=Coupon.Source.REWARD,
                source_ref=reward.code,
                owner=member,
            )
        elif prize is not None and prize.kind == DrawPrize.Kind.POINTS:
            play.prize_entry = points_earn(
                member=member,
                points=prize.points or 0,
                source=Source(Entry.Source.REWARD, reward.code),
                key=f"draw-prize:{key}",
                reason=f"draw {reward.code}: {prize.name}",
            )
        elif prize is not None:
            play.status = DrawPlay.Status.TO_SHIP
        play.save()
    return play, True


def prize_stock_add(*, prize: DrawPrize, change: int) -> None:
    """Add to (or take from) a prize's stock by the difference, never below zero."""
    if not DrawPrize.objects.filter(pk=prize.pk, stock__isnull=False, stock__gte=-change).update(
        stock=F("stock") + change
    ):
        prize.refresh_from_db(fields=["stock"])
        raise Invalid(f"Prize {prize.name} has {prize.stock} left, not {-change}.")
    prize.refresh_from_db(fields=["stock"])
