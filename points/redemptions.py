"""Points spent at checkout: a discount worth the points at the programme's value,
in whole steps, capped at a share of the order. Built on the ledger's redeem and
cancel, in the same transaction as the redemption record."""

from django.conf import settings
from django.db import transaction

from members.models import Member
from notifications.webhooks import webhook_events_queue
from shop.models import ApiKey, Shop
from shop.money import format_amount

from .errors import IdempotencyConflict, InvalidPoints, RedemptionTooLarge
from .models import Entry, Redemption
from .selectors import points_value_minor
from .services import Source, fingerprint_of, lock_account, points_cancel_redemption, points_redeem


def redemption_create(
    *,
    shop: Shop,
    member: Member,
    points: int,
    key: str,
    order_total_minor: int | None = None,
    order_ref: str = "",
    api_key: ApiKey | None = None,
) -> tuple[Redemption, bool]:
    """Spend `points` as a discount at `shop`; returns (redemption, created). The
    same key (of the same shop) again returns the first redemption; with other
    arguments it is a conflict."""
    step = settings.POINTS_REDEMPTION_STEP
    if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
        raise InvalidPoints("Points must be a positive whole number.")
    if points % step:
        raise InvalidPoints(f"Points are spent in steps of {step}.")
    discount = points_value_minor(points=points)
    if order_total_minor is not None:
        limit = order_total_minor * settings.POINTS_REDEMPTION_MAX_PERCENT // 100
        if discount > limit:
            raise RedemptionTooLarge(
                f"Points may pay at most {settings.POINTS_REDEMPTION_MAX_PERCENT}% of an order."
            )
    fingerprint = fingerprint_of(
        op="redemption", points=points, order_total=order_total_minor, order_ref=order_ref
    )
    with transaction.atomic():
        lock_account(member_id=member.pk)
        earlier = Redemption.objects.filter(shop=shop, member=member, idempotency_key=key).first()
        if earlier is not None:
            if earlier.fingerprint != fingerprint:
                raise IdempotencyConflict(f"Idempotency key {key!r} was used for another request.")
            return earlier, False
        entry = points_redeem(
            member=member,
            points=points,
            source=Source(Entry.Source.REWARD, shop.ledger_ref(order_ref or "checkout")),
            key=f"redemption:{shop.ledger_ref(key)}",
            reason="checkout discount",
        )
        redemption = Redemption.objects.create(
            shop=shop,
            member=member,
            idempotency_key=key,
            fingerprint=fingerprint,
            points=points,
            discount_minor=discount,
            currency=settings.PROGRAM_CURRENCY,
            order_ref=order_ref,
            entry=entry,
            api_key=api_key,
        )
        webhook_events_queue(
            event="redemption.created",
            payloads=[
                {
                    "id": str(redemption.public_id),
                    "member": member.number,
                    "points": points,
                    "status": redemption.status,
                    "discount": {
                        "amount": format_amount(discount, redemption.currency),
                        "currency": redemption.currency,
                    },
                }
            ],
        )
    return redemption, True


def redemption_cancel(*, redemption: Redemption) -> Redemption:
    """Give the points back. Cancelling twice is the same as once."""
    with transaction.atomic():
        lock_account(member_id=redemption.member_id)
        redemption.refresh_from_db()
        if redemption.status == Redemption.Status.CANCELLED:
            return redemption
        cancel = points_cancel_redemption(
            redemption=redemption.entry,
            key=f"redemption-cancel:{redemption.public_id}",
            reason="checkout discount cancelled",
        )
        Redemption.objects.filter(pk=redemption.pk).update(
            status=Redemption.Status.CANCELLED, cancel_entry=cancel
        )
        redemption.refresh_from_db()
    return redemption
