"""What the ledger refuses, each with a stable code the API returns."""


class PointsError(Exception):
    code = "invalid"
    status = 422

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidPoints(PointsError):
    code = "invalid"


class InsufficientPoints(PointsError):
    code = "insufficient_points"


class MemberInactive(PointsError):
    code = "member_inactive"
    status = 403


class EmailNotVerified(PointsError):
    code = "email_unverified"
    status = 403


class IdempotencyConflict(PointsError):
    code = "conflict"
    status = 409


class AlreadyCancelled(PointsError):
    code = "conflict"
    status = 409


class NotAllowed(PointsError):
    code = "forbidden"
    status = 403


class RedemptionTooLarge(PointsError):
    code = "redemption_limit"
