"""The points part of the shop API: a member's ledger (redemptions are in
rewards/api.py, which sees both kinds: points as a discount and rewards)."""

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from members.models import Member
from members.selectors import member_get
from shop.errors import NotFound
from shop.schemas import error_responses, query_known

from .selectors import history_page

router = Router(tags=["points"])


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


def member_or_404(number: str) -> Member:
    member = member_get(number=number)
    if member is None:
        raise NotFound(f"No member has the number {number[:20]!r}.")
    return member


class TransactionQuery(Schema):
    cursor: str | None = Field(default=None, pattern=r"^[0-9]{1,19}$", max_length=19)
    limit: int = Field(default=50, ge=1, le=200)


@router.get(
    "/members/{number}/transactions",
    response={200: TransactionPage, **error_responses(400, 404)},
    summary="A member's points ledger, newest first",
)
def members_transactions(request: HttpRequest, number: str, query: Query[TransactionQuery]) -> dict:
    query_known(request, TransactionQuery)
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
