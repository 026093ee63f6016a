"""What the ledger refuses, each with a stable code the API returns (its HTTP
status is the API's business: shop/errors.py)."""

from shop.errors import DomainError


class PointsError(DomainError):
    code = "invalid"


class InvalidPoints(PointsError):
    code = "invalid"


class InsufficientPoints(PointsError):
    code = "insufficient_points"


class MemberInactive(PointsError):
    code = "member_inactive"


class EmailNotVerified(PointsError):
    code = "email_unverified"


class IdempotencyConflict(PointsError):
    code = "conflict"


class AlreadyCancelled(PointsError):
    code = "conflict"


class NotAllowed(PointsError):
    code = "forbidden"


class RedemptionTooLarge(PointsError):
    code = "redemption_limit"
