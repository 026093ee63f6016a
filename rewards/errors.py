"""What the rewards and coupon services refuse, each with a stable code and the
HTTP status the API answers it with."""


class RewardsError(Exception):
    code = "invalid"
    status = 422

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Invalid(RewardsError):
    code = "invalid"


class NotFound(RewardsError):
    code = "not_found"
    status = 404


class CouponUsedUp(RewardsError):
    code = "coupon_used_up"
    status = 409


class CouponExpired(RewardsError):
    code = "coupon_expired"


class CouponVoid(RewardsError):
    code = "coupon_void"


class CouponNotYours(RewardsError):
    code = "coupon_not_yours"
    status = 403


class CouponMinSpend(RewardsError):
    code = "coupon_min_spend"


class Conflict(RewardsError):
    code = "conflict"
    status = 409


class OutOfStock(RewardsError):
    code = "out_of_stock"
    status = 409


class RewardLimit(RewardsError):
    code = "reward_limit"
    status = 409


class TierRequired(RewardsError):
    code = "tier_required"
    status = 403


class NotEnoughPoints(RewardsError):
    code = "insufficient_points"
    status = 409


class RewardUnavailable(RewardsError):
    code = "reward_unavailable"


class MemberCannotRedeem(RewardsError):
    """The member is frozen, closed or restricted, or has not verified their e-mail."""

    status = 403

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
