"""What the rewards and coupon services refuse, each with a stable code (its
HTTP status is in the API's one table: shop/errors.py)."""

from shop.errors import Conflict, DomainError, Invalid, NotFound


class RewardsError(DomainError):
    code = "invalid"


class CouponUsedUp(RewardsError):
    code = "coupon_used_up"


class CouponExpired(RewardsError):
    code = "coupon_expired"


class CouponVoid(RewardsError):
    code = "coupon_void"


class CouponNotYours(RewardsError):
    code = "coupon_not_yours"


class CouponMinSpend(RewardsError):
    code = "coupon_min_spend"


class OutOfStock(RewardsError):
    code = "out_of_stock"


class RewardLimit(RewardsError):
    code = "reward_limit"


class TierRequired(RewardsError):
    code = "tier_required"


class RewardUnavailable(RewardsError):
    code = "reward_unavailable"


__all__ = [
    "Conflict",
    "CouponExpired",
    "CouponMinSpend",
    "CouponNotYours",
    "CouponUsedUp",
    "CouponVoid",
    "Invalid",
    "NotFound",
    "OutOfStock",
    "RewardLimit",
    "RewardUnavailable",
    "RewardsError",
    "TierRequired",
]
