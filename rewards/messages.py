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


def _reward_names(stored: list[Context]) -> dict[str, str]:
    """The names, in the active language, of the rewards the contexts name (one
    query); a reward since deleted is named by its code."""
    codes = {each["reward"] for each in stored}
    language = translation.get_language() or ""
    names = {code: code for code in codes}
    names.update(
        (reward.code, reward.name_in(language)) for reward in Reward.objects.filter(code__in=codes)
    )
    return names


def coupon_issued_contexts(stored: list[Context]) -> list[Context]:
    """The stored contexts with the reward's name in the message's language and
    the last day as a date."""
    names = _reward_names(stored)
    return [
        {
            **each,
            "reward": names[each["reward"]],
            "last_day": dt.date.fromisoformat(each["last_day"]) if each.get("last_day") else None,
        }
        for each in stored
    ]


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


def gift_shipped_contexts(stored: list[Context]) -> list[Context]:
    """The stored contexts with the gift's name in the message's language: the
    reward's, or the prize's for a gift won in a draw (then `won`); the rewards
    and the prizes read once for all the messages."""
    language = translation.get_language() or ""
    names = _reward_names(stored)
    prize_ids = {each["prize"] for each in stored if each.get("prize") is not None}
    prizes = DrawPrize.objects.in_bulk(prize_ids) if prize_ids else {}
    contexts = []
    for each in stored:
        if each.get("prize") is not None:
            prize = prizes.get(each["prize"])
            name = prize.name_in(language) if prize else each["reward"]
            contexts.append({**each, "reward": name, "won": True})
        else:
            contexts.append({**each, "reward": names[each["reward"]]})
    return contexts


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
