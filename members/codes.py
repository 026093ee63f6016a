"""One-time codes (phone verification, login by code) kept hashed.

allauth keeps the code it sent in the session's login state and compares what
the member types with it. Here the adapter hands allauth an HMAC of the code
(keyed with SECRET_KEY) instead, and keeps the code itself only on the request
that sends it; the forms hash what is typed before allauth compares. A session
store read by someone else shows no code."""

from allauth.core import context
from allauth.core.internal.cryptokit import normalize_user_code
from django.utils.crypto import salted_hmac

SALT = "members.one-time-code"


def code_digest(code: str) -> str:
    return salted_hmac(SALT, normalize_user_code(code), algorithm="sha256").hexdigest()


def code_keep(code: str) -> str:
    """Remember the code for this request's message; returns its digest."""
    digest = code_digest(code)
    request = context.request
    if request is not None:
        codes = getattr(request, "_one_time_codes", {})
        codes[digest] = code
        request._one_time_codes = codes  # type: ignore[attr-defined]
    return digest


def code_sent(digest: str) -> str:
    """The code a digest stands for, as kept by this request (to send it)."""
    request = context.request
    codes = getattr(request, "_one_time_codes", {}) if request is not None else {}
    return codes.get(digest, digest)
