"""Coupons: codes, validation, redemption by an order, release and void.

A coupon's uses are a counter changed only by conditional UPDATEs: a redeem adds
one only while `uses_count < uses_allowed` (and the coupon is neither void nor
expired), in the transaction that records the use, so with k uses left any
number of redeems at once succeed exactly k times. A release takes the use back
in one statement guarded by the use's `released_at`, so it happens once.
"""

import datetime as dt
import secrets
from dataclasses import asdict, dataclass

from django.db import IntegrityError, connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from batch.services import program_midnight
from members.models import Member, User
from points.errors import MemberInactive
from shop.errors import DomainError
from shop.models import Shop

from ..errors import (
    Conflict,
    CouponExpired,
    CouponMinSpend,
    CouponNotYours,
    CouponUsedUp,
    CouponVoid,
    Invalid,
    NotFound,
    RewardsError,
)
from ..messages import coupons_issued_announce
from ..models import Coupon, CouponKind, CouponUse

# No 0/O, 1/I/L: a code read aloud or copied by hand is not mistaken.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
PREFIX_CHARACTERS = set(CODE_ALPHABET) | set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-")
_ATTEMPTS = 10


# Random bytes to characters: byte b < 248 (8 * 31) is CODE_ALPHABET[b % 31], so
# every character is equally likely; the bytes 248-255 are dropped.
_USABLE_BYTES = len(CODE_ALPHABET) * (256 // len(CODE_ALPHABET))
_BYTE_TO_CHARACTER = bytes(
    ord(CODE_ALPHABET[b % len(CODE_ALPHABET)]) if b < _USABLE_BYTES else 0 for b in range(256)
)
_DROPPED_BYTES = bytes(range(_USABLE_BYTES, 256))


def codes_generate(*, count: int, prefix: str = "") -> list[str]:
    """`count` fresh random codes: `prefix` and CODE_LENGTH characters from
    `secrets` over CODE_ALPHABET (31**10, about 8 * 10**14 codes); a million in
    about a second (the bytes are mapped in C by bytes.translate)."""
    needed = count * CODE_LENGTH
    characters = b""
    while len(characters) < needed:
        raw = secrets.token_bytes((needed - len(characters)) * 17 // 16 + 16)
        characters += raw.translate(_BYTE_TO_CHARACTER, _DROPPED_BYTES)
    text = characters[:needed].decode("ascii")
    return [prefix + text[i : i + CODE_LENGTH] for i in range(0, needed, CODE_LENGTH)]


def code_generate(*, prefix: str = "") -> str:
    """One fresh random code (see `codes_generate`)."""
    return codes_generate(count=1, prefix=prefix)[0]


def code_normalize(code: str) -> str:
    """Codes are case-insensitive: stored and looked up in upper case."""
    return code.strip().upper()


def prefix_check(prefix: str) -> str:
    prefix = code_normalize(prefix)
    if len(prefix) > 10 or not set(prefix) <= PREFIX_CHARACTERS:
        raise Invalid("A prefix is at most 10 letters, digits or dashes.")
    return prefix


def coupon_expiry(*, last_day: dt.date) -> dt.datetime:
    """A coupon valid through the programme's day `last_day` expires at the
    midnight that ends it."""
    return program_midnight(last_day + dt.timedelta(days=1))


@dataclass(frozen=True)
class CouponSpec:
    """What a coupon gives: amounts in minor units of the programme's currency."""

    kind: str
    amount_minor: int = 0
    percent: int = 0
    max_discount_minor: int | None = None
    min_spend_minor: int = 0
    uses_allowed: int | None = 1
    expires_at: dt.datetime | None = None

    def check(self) -> "CouponSpec":
        if self.kind not in CouponKind.values:
            raise Invalid(f"Unknown coupon kind {self.kind!r}.")
        if self.kind == CouponKind.AMOUNT and self.amount_minor <= 0:
            raise Invalid("An amount coupon needs a value above zero.")
        if self.kind == CouponKind.PERCENT and not 1 <= self.percent <= 100:
            raise Invalid("A percent coupon needs a whole percent from 1 to 100.")
        if self.max_discount_minor is not None and self.kind != CouponKind.PERCENT:
            raise Invalid("Only a percent coupon has a largest discount.")
        if self.min_spend_minor < 0 or (self.max_discount_minor or 0) < 0:
            raise Invalid("Amounts cannot be negative.")
        if self.uses_allowed is not None and self.uses_allowed < 1:
            raise Invalid("A coupon allows at least one use (or unlimited).")
        return self


def coupon_create(
    *,
    spec: CouponSpec,
    source: str,
    source_ref: str = "",
    owner: Member | None = None,
    actor: User | None = None,
    prefix: str = "",
) -> Coupon:
    """One new coupon with a fresh code (a clash of random codes is retried);
    one issued to a member is announced (`coupon.issued`) in the same
    transaction."""
    spec.check()
    prefix = prefix_check(prefix)
    for _attempt in range(_ATTEMPTS):
        try:
            with transaction.atomic():
                coupon = Coupon.objects.create(
                    code=code_generate(prefix=prefix),
                    owner=owner,
                    source=source,
                    source_ref=source_ref,
                    created_by=actor,
                    **asdict(spec),
                )
                coupons_issued_announce(coupons=[coupon])
                return coupon
        except IntegrityError:
            continue
    raise IntegrityError("could not allocate a unique coupon code")


def coupon_status(*, coupon: Coupon, now: dt.datetime | None = None) -> str:
    """`void`, `used_up`, `expired` or `active`."""
    now = now or timezone.now()
    if coupon.voided_at is not None:
        return "void"
    if coupon.uses_allowed is not None and coupon.uses_count >= coupon.uses_allowed:
        return "used_up"
    if coupon.expires_at is not None and coupon.expires_at <= now:
        return "expired"
    return "active"


def coupon_discount(*, coupon: Coupon, total_minor: int) -> int:
    """What the coupon takes off an order of `total_minor`: an amount (at most
    the total), a percent rounded down and capped by `max_discount_minor`;
    nothing off the goods for free shipping or a gift (the shop applies them)."""
    if coupon.kind == CouponKind.AMOUNT:
        return min(coupon.amount_minor, total_minor)
    if coupon.kind == CouponKind.PERCENT:
        discount = total_minor * coupon.percent // 100
        if coupon.max_discount_minor is not None:
            discount = min(discount, coupon.max_discount_minor)
        return discount
    return 0


def _member_refusal(member: Member) -> MemberInactive | None:
    if member.status != Member.Status.ACTIVE:
        return MemberInactive(f"Member {member.number} is {member.status} and cannot redeem.")
    return None


def _refusal_of_status(coupon: Coupon, now: dt.datetime) -> RewardsError:
    """Why the conditional UPDATE took no use: the coupon as it is now."""
    status = coupon_status(coupon=coupon, now=now)
    if status == "void":
        return CouponVoid(f"Coupon {coupon.code} was voided.")
    if status == "expired":
        return CouponExpired(f"Coupon {coupon.code} has expired.")
    return CouponUsedUp(f"Coupon {coupon.code} has no uses left.")


def coupon_refusal(
    *,
    coupon: Coupon,
    member: Member | None = None,
    total_minor: int | None = None,
    now: dt.datetime | None = None,
) -> DomainError | None:
    """Why the coupon cannot be used now by `member` on an order of `total_minor`
    (the checks that are not given are skipped), or None when it can."""
    status = coupon_status(coupon=coupon, now=now)
    if status in ("void", "expired"):
        return _refusal_of_status(coupon, now or timezone.now())
    if coupon.owner_id is not None and (member is None or member.pk != coupon.owner_id):
        return CouponNotYours(f"Coupon {coupon.code} belongs to another member.")
    if member is not None and (refusal := _member_refusal(member)) is not None:
        return refusal
    if total_minor is not None and total_minor < coupon.min_spend_minor:
        return CouponMinSpend(f"Coupon {coupon.code} needs a larger order.")
    if status == "used_up":
        return _refusal_of_status(coupon, now or timezone.now())
    return None


def coupon_get(*, code: str) -> Coupon:
    try:
        return Coupon.objects.get(code=code_normalize(code))
    except Coupon.DoesNotExist:
        raise NotFound("No coupon has this code.") from None


def _use_replay(coupon: Coupon, shop: Shop, key: str, fingerprint: str) -> CouponUse | None:
    use = CouponUse.objects.filter(coupon=coupon, shop=shop, idempotency_key=key).first()
    if use is None:
        return None
    if use.fingerprint != fingerprint:
        raise Conflict(f"Idempotency key {key!r} was used for another request.")
    if use.released_at is not None:
        raise Conflict(f"The use with idempotency key {key!r} was released; redeem with a new key.")
    return use


# The conditional UPDATE of the uses counter, in SQL for its RETURNING (the ORM's
# update() returns only a count): the uses after this one, or no row when none
# was left, the coupon is void or it has expired.
_TAKE_USE = """
    UPDATE rewards_coupon SET uses_count = uses_count + 1
    WHERE id = %s AND voided_at IS NULL AND (expires_at IS NULL OR expires_at > %s)
      AND (uses_allowed IS NULL OR uses_count < uses_allowed)
    RETURNING uses_count
"""


def _take_use(coupon: Coupon, now: dt.datetime) -> int | None:
    """Add one use if one is left and the coupon is neither void nor expired, as
    one conditional UPDATE: the row's lock makes concurrent redeems queue and
    each re-checks the condition on the row as the one before left it. Returns
    the coupon's uses after it, or None when it took none."""
    with connection.cursor() as cursor:
        cursor.execute(_TAKE_USE, [coupon.pk, connection.ops.adapt_datetimefield_value(now)])
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def coupon_redeem(
    *,
    shop: Shop,
    code: str,
    order_id: str,
    total_minor: int,
    key: str,
    fingerprint: str,
    member: Member | None = None,
) -> tuple[CouponUse, bool]:
    """Consume one use of the coupon for an order of `shop`; returns (use,
    created). The same key (of the same shop) again returns the first use; with
    other arguments, or for an order that already holds a use of the coupon, it
    is a conflict.

    The hot path of a promotion code (every checkout queues on its row): three
    statements, the coupon read, the use inserted and the counter's conditional
    UPDATE ... RETURNING, the row locked from that UPDATE to the commit only. A
    retry is found by the use's unique key (the insert refuses it), or, when
    the coupon cannot be used any more, looked up before refusing."""
    coupon = coupon_get(code=code)
    now = timezone.now()
    refusal = coupon_refusal(coupon=coupon, member=member, total_minor=total_minor, now=now)
    if refusal is not None:
        if (earlier := _use_replay(coupon, shop, key, fingerprint)) is not None:
            return earlier, False
        raise refusal
    try:
        with transaction.atomic():
            use = CouponUse.objects.create(
                coupon=coupon,
                shop=shop,
                order_id=order_id,
                member=member,
                idempotency_key=key,
                fingerprint=fingerprint,
                total_minor=total_minor,
                discount_minor=coupon_discount(coupon=coupon, total_minor=total_minor),
            )
            uses_count = _take_use(coupon, now)
            if uses_count is None:
                coupon.refresh_from_db()
                raise _refusal_of_status(coupon, now)
    except IntegrityError:
        if (earlier := _use_replay(coupon, shop, key, fingerprint)) is not None:
            return earlier, False
        raise Conflict(f"Order {order_id} already uses coupon {coupon.code}.") from None
    coupon.uses_count = uses_count
    use.coupon = coupon
    return use, True


def coupon_release(*, shop: Shop, code: str, order_id: str) -> Coupon:
    """Give back the use an order of `shop` holds of the coupon (an abandoned
    checkout, a cancelled order). Releasing again changes nothing; an order that
    never used the coupon (another shop's included) is `not_found`."""
    coupon = coupon_get(code=code)
    uses = CouponUse.objects.filter(coupon=coupon, shop=shop, order_id=order_id)
    if not uses.exists():
        raise NotFound(f"Order {order_id} has not used coupon {coupon.code}.")
    _uses_release(uses)
    coupon.refresh_from_db()
    return coupon


def coupon_uses_release_for_order(*, shop: Shop, order_id: str) -> int:
    """Give back every coupon use of an order of `shop` (cancelled or fully
    refunded); returns how many were released."""
    return _uses_release(CouponUse.objects.filter(shop=shop, order_id=order_id))


def _uses_release(uses: QuerySet[CouponUse]) -> int:
    released = 0
    with transaction.atomic():
        for use_id, coupon_id in uses.filter(released_at__isnull=True).values_list(
            "pk", "coupon_id"
        ):
            if CouponUse.objects.filter(pk=use_id, released_at__isnull=True).update(
                released_at=timezone.now()
            ):
                Coupon.objects.filter(pk=coupon_id).update(uses_count=F("uses_count") - 1)
                released += 1
    return released


def coupons_consume_for_order(
    *, shop: Shop, codes: list[str], order_id: str, member: Member, total_minor: int
) -> list[CouponUse]:
    """The coupons an order names, consumed in the order's transaction (the
    caller's): a use the order already holds (redeemed at checkout) counts; any
    refusal raises and so undoes the order."""
    uses = []
    for code in dict.fromkeys(code_normalize(code) for code in codes):
        held = CouponUse.objects.filter(
            coupon__code=code, shop=shop, order_id=order_id, released_at__isnull=True
        ).first()
        if held is None:
            held, _created = coupon_redeem(
                shop=shop,
                code=code,
                order_id=order_id,
                total_minor=total_minor,
                key=f"order:{order_id}",
                fingerprint=f"order:{order_id}",
                member=member,
            )
        uses.append(held)
    return uses


def coupon_void(*, coupon: Coupon, reason: str = "", only_unused: bool = False) -> bool:
    """Void the coupon (no further use); with `only_unused`, only if it has never
    been used. Returns whether it was voided now."""
    voidable = Coupon.objects.filter(pk=coupon.pk, voided_at__isnull=True)
    if only_unused:
        voidable = voidable.filter(uses_count=0)
    return bool(voidable.update(voided_at=timezone.now(), void_reason=reason[:200]))
