"""The rewards' messages to members, sent through the outbox (`notifications`),
and the `coupon.issued` webhook event."""

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.utils import translation

from members.models import Member
from notifications.registry import Context
from notifications.services import message_build, messages_queue
from notifications.webhooks import webhook_events_queue
from points.expiry import last_usable_day
from shop.money import format_amount

from .models import Coupon, DrawPlay, DrawPrize, Reward, RewardRedemption

COUPON_ISSUED = "rewards.coupon_issued"
GIFT_SHIPPED = "rewards.gift_shipped"


def coupon_issued_queue(*, member: Member, reward: Reward, coupon: Coupon) -> None:
    """E-mail the member the coupon their reward issued, once per coupon, when
    the redemption commits (queued in its transaction)."""
    last_day = None
    if coupon.expires_at is not None:
        last_day = last_usable_day(coupon.expires_at).isoformat()
    messages_queue(
        messages=[
            message_build(
                member_id=member.pk,
                template=COUPON_ISSUED,
                context={
                    "reward": reward.code,
                    "points": reward.points,
                    "code": coupon.code,
                    "last_day": last_day,
                },
                key=f"coupon-issued:{coupon.pk}",
            )
        ]
    )


def coupon_issued_context(stored: Context) -> Context:
    """The stored context with the reward's name in the message's language and
    the last day as a date."""
    reward = Reward.objects.filter(code=stored["reward"]).first()
    name = reward.name_in(translation.get_language() or "") if reward else stored["reward"]
    last_day = stored.get("last_day")
    return {
        **stored,
        "reward": name,
        "last_day": dt.date.fromisoformat(last_day) if last_day else None,
    }


def gift_shipped_queue(*, gift: RewardRedemption | DrawPlay) -> None:
    """Tell the member their gift (redeemed, or won in a draw) is on its way,
    with the carrier and tracking number staff gave, once, when the shipping
    commits."""
    if isinstance(gift, DrawPlay):
        context = {"reward": gift.reward.code, "prize": gift.prize_id, "note": gift.shipping_note}
        key = f"draw-gift-shipped:{gift.pk}"
    else:
        context = {"reward": gift.reward.code, "note": gift.shipping_note}
        key = f"gift-shipped:{gift.pk}"
    messages_queue(
        messages=[
            message_build(member_id=gift.member_id, template=GIFT_SHIPPED, context=context, key=key)
        ]
    )


def gift_shipped_context(stored: Context) -> Context:
    """The stored context with the gift's name in the message's language: the
    reward's, or the prize's for a gift won in a draw (then `won`)."""
    language = translation.get_language() or ""
    if stored.get("prize") is not None:
        prize = DrawPrize.objects.filter(pk=stored["prize"]).first()
        return {
            **stored,
            "reward": prize.name_in(language) if prize else stored["reward"],
            "won": True,
        }
    reward = Reward.objects.filter(code=stored["reward"]).first()
    return {**stored, "reward": reward.name_in(language) if reward else stored["reward"]}


def _money(minor: int | None) -> dict | None:
    if minor is None:
        return None
    currency = settings.PROGRAM_CURRENCY
    return {"amount": format_amount(minor, currency), "currency": currency}


def coupon_issued_payload(coupon: Coupon, member_number: str) -> dict:
    """What `coupon.issued` reports: the coupon as the coupon lookup shows it."""
    return {
        "code": coupon.code,
        "member": member_number,
        "kind": coupon.kind,
        "source": coupon.source,
        "discount": _money(coupon.amount_minor) if coupon.kind == "amount" else None,
        "percent": coupon.percent if coupon.kind == "percent" else None,
        "max_discount": _money(coupon.max_discount_minor),
        "min_spend": _money(coupon.min_spend_minor),
        "uses": coupon.uses_allowed,
        "expires_at": coupon.expires_at.isoformat() if coupon.expires_at else None,
    }


def coupons_issued_announce(*, coupons: Iterable[Coupon]) -> int:
    """Queue `coupon.issued` for each coupon issued to a member (a promotion's
    codes, owned by nobody, are not announced one by one), in the caller's
    transaction. Returns how many deliveries."""
    owned = [(c, c.owner_id) for c in coupons if c.owner_id is not None]
    if not owned:
        return 0
    numbers = dict(
        Member.objects.filter(pk__in={owner for _c, owner in owned}).values_list("pk", "number")
    )
    return webhook_events_queue(
        event="coupon.issued",
        payloads=[coupon_issued_payload(c, numbers[owner]) for c, owner in owned],
    )
