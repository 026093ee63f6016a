"""Rewards bought with points.

A redemption is one transaction under the member's balance-row lock: the
refusals (dates, tier, per-member limit, stock, points) are checked, the points
are debited through the ledger's one write path (`points.services`), one unit of
stock is taken by a conditional UPDATE (`stock > 0`), and the coupon is issued.
Any refusal undoes all of it. Cancelling gives everything back: the points, the
unit of stock, and the coupon is voided (refused if it has been used, or once
a gift has been shipped). A gift waits `to_ship` until staff ship it
(`services.gifts`).
"""

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from batch.services import program_today
from members.models import Member, User
from notifications.webhooks import webhook_events_queue
from points.errors import InsufficientPoints
from points.models import Entry
from points.services import (
    Source,
    fingerprint_of,
    lock_account,
    points_cancel_redemption,
    points_redeem,
)
from shop.errors import DomainError
from shop.models import Shop
from tiers.models import MemberTier, Tier

from ..documents import RewardDocument, coupon_terms_parse
from ..errors import (
    Conflict,
    Invalid,
    NotFound,
    OutOfStock,
    RewardLimit,
    RewardUnavailable,
    TierRequired,
)
from ..messages import coupon_issued_queue
from ..models import Coupon, Reward, RewardRedemption, StockAdjustment
from .coupons import CouponSpec, coupon_create, coupon_expiry, coupon_void


@dataclass(frozen=True)
class MemberStanding:
    """What decides whether a member may redeem a reward, read once."""

    tier_rank: int
    available: int
    redeemed: dict[int, int]  # reward id -> redemptions not cancelled


def member_tier_rank(*, member: Member) -> int:
    state = MemberTier.objects.select_related("tier").filter(pk=member.pk).first()
    if state is not None:
        return state.tier.rank
    lowest = Tier.objects.order_by("rank").first()
    return lowest.rank if lowest else 0


def redeemed_counts(*, member: Member, reward_ids: list[int] | None = None) -> dict[int, int]:
    redemptions = RewardRedemption.objects.filter(member=member).exclude(
        status=RewardRedemption.Status.CANCELLED
    )
    if reward_ids is not None:
        redemptions = redemptions.filter(reward_id__in=reward_ids)
    counts: dict[int, int] = {}
    for reward_id in redemptions.values_list("reward_id", flat=True):
        counts[reward_id] = counts.get(reward_id, 0) + 1
    return counts


def reward_refusal(
    *, reward: Reward, standing: MemberStanding | None, now: dt.datetime
) -> DomainError | None:
    """Why the member cannot redeem the reward now, or None; with no `standing`
    (no member named), only what is true for everyone (dates, stock)."""
    if (
        not reward.active
        or (reward.starts_at is not None and now < reward.starts_at)
        or (reward.ends_at is not None and now >= reward.ends_at)
    ):
        return RewardUnavailable(f"Reward {reward.code} is not available now.")
    if reward.stock is not None and reward.stock <= 0:
        return OutOfStock(f"Reward {reward.code} is out of stock.")
    if standing is None:
        return None
    if reward.min_tier is not None and standing.tier_rank < reward.min_tier.rank:
        return TierRequired(f"Reward {reward.code} needs the {reward.min_tier.name} tier.")
    if (
        reward.per_member_limit is not None
        and standing.redeemed.get(reward.pk, 0) >= reward.per_member_limit
    ):
        return RewardLimit(
            f"Reward {reward.code} can be redeemed {reward.per_member_limit} times per member."
        )
    if standing.available < reward.points:
        return InsufficientPoints(
            f"Reward {reward.code} costs {reward.points} points; the member has "
            f"{max(standing.available, 0)}."
        )
    return None


def reward_points_spend(
    *,
    member: Member,
    available: int,
    reward: Reward,
    redeemed: int,
    key: str,
    reason: str,
    now: dt.datetime,
) -> Entry:
    """Under the member's balance lock: refuse as `reward_refusal` says (the
    member has `available` points and has had the reward `redeemed` times), else
    debit its points through the ledger, once per `key`."""
    standing = MemberStanding(
        tier_rank=member_tier_rank(member=member),
        available=available,
        redeemed={reward.pk: redeemed},
    )
    if (refusal := reward_refusal(reward=reward, standing=standing, now=now)) is not None:
        raise refusal
    return points_redeem(
        member=member,
        points=reward.points,
        source=Source(Entry.Source.REWARD, reward.code),
        key=key,
        reason=reason,
    )


def reward_coupon_spec(*, reward: Reward, issued_on: dt.date) -> CouponSpec:
    """The coupon a reward issues on a programme day: valid that day and the
    `valid_days - 1` after it, to the programme's midnight."""
    terms = coupon_terms_parse(reward.coupon)
    last_day = issued_on + dt.timedelta(days=terms.valid_days - 1)
    return terms.spec(expires_at=coupon_expiry(last_day=last_day))


def _take_stock(reward: Reward) -> None:
    if reward.stock is None:
        return
    if not Reward.objects.filter(pk=reward.pk, stock__gt=0).update(stock=F("stock") - 1):
        raise OutOfStock(f"Reward {reward.code} is out of stock.")


def _replay(shop: Shop, member: Member, key: str, fingerprint: str) -> RewardRedemption | None:
    earlier = (
        RewardRedemption.objects.select_related("reward", "coupon", "member")
        .filter(shop=shop, member=member, idempotency_key=key)
        .first()
    )
    if earlier is not None and earlier.fingerprint != fingerprint:
        raise Conflict(f"Idempotency key {key!r} was used for another request.")
    return earlier


def reward_redeem(
    *, shop: Shop, member: Member, reward_code: str, key: str
) -> tuple[RewardRedemption, bool]:
    """Buy a reward with points at `shop`; returns (redemption, created). The
    same key (of the same shop) again returns the first redemption; with another
    reward it is a conflict."""
    reward = Reward.objects.select_related("min_tier").filter(code=reward_code).first()
    if reward is None:
        raise NotFound(f"No reward has the code {reward_code[:50]!r}.")
    if reward.kind == Reward.Kind.DRAW:
        raise RewardUnavailable(
            f"Reward {reward.code} is a points draw: it is played in the portal."
        )
    fingerprint = fingerprint_of(op="reward", reward=reward.code)
    now = timezone.now()
    with transaction.atomic():
        account = lock_account(member_id=member.pk)
        if (earlier := _replay(shop, member, key, fingerprint)) is not None:
            return earlier, False
        reward.refresh_from_db(fields=["stock"])
        entry = reward_points_spend(
            member=member,
            available=account.available,
            reward=reward,
            redeemed=redeemed_counts(member=member, reward_ids=[reward.pk]).get(reward.pk, 0),
            key=f"reward:{shop.ledger_ref(key)}",
            reason=f"reward {reward.code}",
            now=now,
        )
        _take_stock(reward)
        coupon = None
        if reward.kind != Reward.Kind.GIFT:
            coupon = coupon_create(
                spec=reward_coupon_spec(reward=reward, issued_on=program_today()),
                source=Coupon.Source.REWARD,
                source_ref=reward.code,
                owner=member,
            )
            coupon_issued_queue(member=member, reward=reward, coupon=coupon)
        redemption = RewardRedemption.objects.create(
            shop=shop,
            member=member,
            reward=reward,
            idempotency_key=key,
            fingerprint=fingerprint,
            points=reward.points,
            status=(
                RewardRedemption.Status.TO_SHIP
                if reward.kind == Reward.Kind.GIFT
                else RewardRedemption.Status.ACTIVE
            ),
            coupon=coupon,
            entry=entry,
        )
        reward_redemption_announce(redemption=redemption)
    return redemption, True


def reward_redemption_announce(*, redemption: RewardRedemption) -> None:
    """Queue `redemption.created` for a reward bought with points, in the
    redemption's transaction: as a checkout discount's, with the reward and the
    coupon it issued."""
    coupon = redemption.coupon
    webhook_events_queue(
        event="redemption.created",
        payloads=[
            {
                "id": str(redemption.public_id),
                "member": redemption.member.number,
                "points": redemption.points,
                "status": redemption.status,
                "reward": redemption.reward.code,
                "coupon": (
                    {
                        "code": coupon.code,
                        "expires_at": coupon.expires_at.isoformat() if coupon.expires_at else None,
                    }
                    if coupon is not None
                    else None
                ),
            }
        ],
    )


def reward_redemption_cancel(*, redemption: RewardRedemption) -> RewardRedemption:
    """Give back the points and the unit of stock, and void the coupon. Refused
    when the coupon has been used; cancelling twice is the same as once."""
    with transaction.atomic():
        lock_account(member_id=redemption.member_id)
        # Its row lock orders a cancel and a shipping (`gift_ship`) of the same
        # gift: the second sees what the first did.
        redemption = (
            RewardRedemption.objects.select_related("reward", "coupon", "entry")
            .select_for_update(of=("self",))
            .get(pk=redemption.pk)
        )
        if redemption.status == RewardRedemption.Status.CANCELLED:
            return redemption
        if redemption.status == RewardRedemption.Status.SHIPPED:
            raise Conflict(f"The gift {redemption.reward.code} has been shipped: it stays.")
        coupon = redemption.coupon
        if coupon is not None and not coupon_void(
            coupon=coupon, reason="reward redemption cancelled", only_unused=True
        ):
            coupon.refresh_from_db()
            if coupon.uses_count:
                raise Conflict(f"Coupon {coupon.code} has been used: the redemption stays.")
        cancel = points_cancel_redemption(
            redemption=redemption.entry,
            key=f"reward-cancel:{redemption.public_id}",
            reason=f"reward {redemption.reward.code} cancelled",
        )
        Reward.objects.filter(pk=redemption.reward_id, stock__isnull=False).update(
            stock=F("stock") + 1
        )
        RewardRedemption.objects.filter(pk=redemption.pk).update(
            status=RewardRedemption.Status.CANCELLED, cancel_entry=cancel
        )
        redemption.refresh_from_db()
    return redemption


def reward_stock_adjust(
    *, reward: Reward, change: int, reason: str, actor: User | None = None
) -> Reward:
    """Add to (or take from) a reward's stock, with a reason, recorded. Never below
    zero: taking more than is left is refused."""
    if not reason.strip():
        raise Invalid("A stock adjustment needs a reason.")
    if change == 0:
        raise Invalid("Adjust the stock by a number other than zero.")
    with transaction.atomic():
        adjusted = Reward.objects.filter(pk=reward.pk, stock__isnull=False, stock__gte=-change)
        if not adjusted.update(stock=F("stock") + change):
            reward.refresh_from_db()
            if reward.stock is None:
                raise Invalid(f"Reward {reward.code} has unlimited stock.")
            raise OutOfStock(f"Reward {reward.code} has {reward.stock} left, not {-change}.")
        reward.refresh_from_db()
        StockAdjustment.objects.create(
            reward=reward, change=change, stock_after=reward.stock, reason=reason, actor=actor
        )
    return reward


def rewards_import_errors(*, documents: list[RewardDocument]) -> list[str]:
    """What is wrong with valid documents taken together, each "path: message":
    a code twice, a tier that does not exist."""
    tiers = set(Tier.objects.values_list("code", flat=True))
    errors = []
    seen: set[str] = set()
    for n, document in enumerate(documents):
        if document.code in seen:
            errors.append(f"{n}.code: {document.code!r} appears twice")
        seen.add(document.code)
        if document.min_tier and document.min_tier not in tiers:
            errors.append(f"{n}.min_tier: no tier has the code {document.min_tier!r}")
    return errors


def rewards_import(
    *, documents: list[RewardDocument], actor: User | None = None
) -> tuple[int, int]:
    """Create or update rewards by code from validated documents, in one
    transaction; returns (created, updated). Nothing is written if
    `rewards_import_errors` finds anything. A stock that changes is recorded as
    an adjustment, under the reward's row lock (redemptions take stock under the
    same lock)."""
    if errors := rewards_import_errors(documents=documents):
        raise Invalid("; ".join(errors))
    tiers = {tier.code: tier for tier in Tier.objects.all()}
    created = updated = 0
    with transaction.atomic():
        for document in documents:
            fields = document.model_dump(exclude={"code", "min_tier", "stock", "coupon"})
            fields["coupon"] = document.coupon.model_dump() if document.coupon else None
            fields["min_tier"] = tiers[document.min_tier] if document.min_tier else None
            reward = Reward.objects.select_for_update().filter(code=document.code).first()
            if reward is None:
                Reward.objects.create(code=document.code, stock=document.stock, **fields)
                created += 1
                continue
            change = (document.stock or 0) - (reward.stock or 0)
            if reward.stock is not None and document.stock is not None and change:
                StockAdjustment.objects.create(
                    reward=reward,
                    change=change,
                    stock_after=document.stock,
                    reason="import",
                    actor=actor,
                )
            Reward.objects.filter(pk=reward.pk).update(stock=document.stock, **fields)
            updated += 1
    return created, updated
