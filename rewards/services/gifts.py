"""Shipping a physical gift: a reward redeemed (`RewardRedemption`) or a draw's
prize won (`DrawPlay`), both `ShippedGift`s waiting `to_ship`. Staff mark it
`shipped` with the carrier and tracking number, and the member is told, in one
transaction; a shipped gift stays (a redemption's cancel refuses it)."""

from django.db import transaction
from django.utils import timezone

from ..errors import Conflict
from ..messages import gift_shipped_queue
from ..models import DrawPlay, RewardRedemption

Gift = RewardRedemption | DrawPlay


def gift_ship(*, gift: Gift, note: str = "") -> Gift:
    """`to_ship` becomes `shipped` (with the carrier and tracking number in
    `note`, if given) by a conditional update, so a gift ships once. Refused
    for anything that is not a gift waiting to ship."""
    with transaction.atomic():
        shipped = (
            type(gift)
            .objects.filter(pk=gift.pk, status=gift.Status.TO_SHIP)
            .update(
                status=gift.Status.SHIPPED,
                shipped_at=timezone.now(),
                shipping_note=note.strip()[:200],
            )
        )
        gift.refresh_from_db()
        if not shipped:
            raise Conflict(
                f"This {gift._meta.verbose_name} is {gift.status}, "
                "not a gift waiting to be shipped."
            )
        gift_shipped_queue(gift=gift)
    return gift
