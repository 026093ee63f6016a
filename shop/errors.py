"""What a service refuses, and how the shop API says it.

A service raises a `DomainError` (or a subclass, e.g. points' InsufficientPoints),
each with a stable `code`; it never builds an HTTP answer, so the portal, the admin
and the jobs can call it too. The API and the Shopify webhooks answer every one as

    {"error": {"code": "insufficient_points", "message": "...", "fields": {...}}}

with the status `http_status(code)` gives: the one table of codes to statuses.
`fields` maps an input's name (dotted for nested ones: "lines.0.amount") to what
is wrong with it.
"""

from collections.abc import Mapping

from django.core.exceptions import ValidationError


class DomainError(Exception):
    code = "invalid"

    def __init__(
        self, message: str, *, fields: Mapping[str, str] | None = None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fields = dict(fields or {})
        if code is not None:
            self.code = code


class Invalid(DomainError):
    code = "invalid"


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    """The same id was already reported with other data (or in another state)."""

    code = "conflict"


class Forbidden(DomainError):
    code = "forbidden"


class RetryLater(DomainError):
    """Not yet: the same request may succeed later (a refund before its order)."""

    code = "retry_later"


# The HTTP status of each code; a code not listed is a refused input (422).
HTTP_STATUSES: dict[str, int] = {
    "invalid": 422,
    "unauthenticated": 401,
    "forbidden": 403,
    "member_inactive": 403,
    "email_unverified": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "conflict": 409,
    "retry_later": 409,
    "order_not_received": 409,
    "insufficient_points": 409,
    "coupon_used_up": 409,
    "coupon_not_yours": 403,
    "out_of_stock": 409,
    "reward_limit": 409,
    "tier_required": 403,
    "too_large": 413,
    "throttled": 429,
}


def http_status(code: str) -> int:
    return HTTP_STATUSES.get(code, 422)


def error_body(code: str, message: str, fields: Mapping[str, str] | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": dict(fields or {})}}


def validation_error_fields(exc: ValidationError) -> dict[str, str]:
    """A Django ValidationError's messages per field ("__all__" for the others)."""
    if hasattr(exc, "error_dict"):
        return {field: " ".join(messages) for field, messages in exc.message_dict.items()}
    return {"__all__": " ".join(exc.messages)}
