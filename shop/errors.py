"""The errors of the shop API, shared by every app's endpoints and the webhooks.

An endpoint or a service called from one raises `ApiError(status, code, message,
fields)`; the API answers it as JSON:

    {"error": {"code": "insufficient_points", "message": "...", "fields": {...}}}

`fields` maps an input's name (dotted for nested ones: "lines.0.amount") to what
is wrong with it.
"""

from collections.abc import Mapping

from django.core.exceptions import ValidationError


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, fields: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = dict(fields or {})


def error_body(code: str, message: str, fields: Mapping[str, str] | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": dict(fields or {})}}


def validation_error_fields(exc: ValidationError) -> dict[str, str]:
    """A Django ValidationError's messages per field ("__all__" for the others)."""
    if hasattr(exc, "error_dict"):
        return {field: " ".join(messages) for field, messages in exc.message_dict.items()}
    return {"__all__": " ".join(exc.messages)}
