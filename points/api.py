"""The points part of the shop API: spend points at checkout, give them back, and
read a member's ledger."""

import uuid

from django.conf import settings
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from members.models import Member
from members.selectors import member_get
from shop.errors import NotFound
from shop.money import format_amount, parse_amount
from shop.schemas import TEXT, Amount, StrictSchema, error_responses

from .models import Redemption
from .redemptions import redemption_cancel, redemption_create
from .selectors import history_page

router = Router(tags=["points"])


class RedemptionIn(StrictSchema):
    member: str = Field(
        description="Member number.", examples=["M12345678"], max_length=20, pattern=TEXT
    )
    points: int = Field(gt=0, le=10**12, description="Points to spend, in whole steps.")
    idempotency_key: str = Field(min_length=1, max_length=100, pattern=TEXT)
    order_total: Amount | None = Field(
        default=None, description="The order's total: points pay at most a share of it."
    )
    order_ref: str = Field(
        default="", max_length=100, description="The shop's cart or order.", pattern=TEXT
    )


class MoneyOut(Schema):
    amount: str = Field(examples=["10.00"])
    currency: str = Field(examples=["CNY"])


class RedemptionOut(Schema):
    id: uuid.UUID
    member: str
    points: int
    status: str = Field(examples=["active", "cancelled"])
    discount: MoneyOut


class TransactionOut(Schema):
    kind: str = Field(examples=["earn", "pending", "redeem"])
    points: int = Field(description="Change of available points (pending for `pending`).")
    pending_change: int
    balance_after: int
    created_at: str
    effective_at: str
    source: str = Field(examples=["order"])
    source_ref: str


class TransactionPage(Schema):
    results: list[TransactionOut]
    next: str | None = Field(description="Pass as `cursor` for the next page; null at the end.")


def _redemption_out(redemption: Redemption) -> dict:
    return {
        "id": redemption.public_id,
        "member": redemption.member.number,
        "points": redemption.points,
        "status": redemption.status,
        "discount": {
            "amount": format_amount(redemption.discount_minor, redemption.currency),
            "currency": redemption.currency,
        },
    }


def member_or_404(number: str) -> Member:
    member = member_get(number=number)
    if member is None:
        raise NotFound(f"No member has the number {number[:20]!r}.")
    return member


@router.post(
    "/redemptions",
    response={200: RedemptionOut, 201: RedemptionOut, **error_responses(400, 403, 404, 409, 422)},
    summary="Spend points as a discount at checkout",
)
def redemptions_create(request: HttpRequest, body: RedemptionIn) -> Status[dict]:
    member = member_or_404(body.member)
    order_total = (
        parse_amount(body.order_total, settings.PROGRAM_CURRENCY, field="order_total")
        if body.order_total is not None
        else None
    )
    redemption, created = redemption_create(
        member=member,
        points=body.points,
        key=body.idempotency_key,
        order_total_minor=order_total,
        order_ref=body.order_ref,
        api_key=request.auth,  # type: ignore[attr-defined]
    )
    return Status(201 if created else 200, _redemption_out(redemption))


@router.post(
    "/redemptions/{redemption_id}/cancel",
    response={200: RedemptionOut, **error_responses(404, 422)},
    summary="Cancel a redemption: the points go back to the member",
)
def redemptions_cancel(request: HttpRequest, redemption_id: uuid.UUID) -> dict:
    redemption = (
        Redemption.objects.select_related("member", "entry").filter(public_id=redemption_id).first()
    )
    if redemption is None:
        raise NotFound("No such redemption.")
    return _redemption_out(redemption_cancel(redemption=redemption))


class TransactionQuery(Schema):
    cursor: str | None = Field(default=None, pattern=r"^[0-9]{1,19}$", max_length=19)
    limit: int = Field(default=50, ge=1, le=200)


@router.get(
    "/members/{number}/transactions",
    response={200: TransactionPage, **error_responses(404, 422)},
    summary="A member's points ledger, newest first",
)
def members_transactions(request: HttpRequest, number: str, query: Query[TransactionQuery]) -> dict:
    member = member_or_404(number)
    before = int(query.cursor) if query.cursor else None
    entries, next_before = history_page(member=member, before_id=before, limit=query.limit)
    return {
        "results": [
            {
                "kind": entry.kind,
                "points": entry.amount or entry.pending_change,
                "pending_change": entry.pending_change,
                "balance_after": entry.balance_after,
                "created_at": entry.created_at.isoformat(),
                "effective_at": entry.effective_at.isoformat(),
                "source": entry.source_type,
                "source_ref": entry.source_ref,
            }
            for entry in entries
        ],
        "next": str(next_before) if next_before else None,
    }
