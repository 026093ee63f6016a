"""The shop's API, v1: one NinjaAPI under /api/v1/ that mounts each app's router,
authenticates every call with an API key (`request.auth` is the ApiKey) and answers
every error as {"error": {"code", "message", "fields"}}.

OpenAPI at /api/v1/openapi.json, browsable docs at /api/v1/docs.
"""

import json
import logging
from collections.abc import Mapping
from typing import Any

import orjson
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser
from ninja.renderers import BaseRenderer
from ninja.responses import NinjaJSONEncoder
from ninja.security import HttpBearer
from ninja.throttling import SimpleRateThrottle

from campaigns.api import router as campaigns_router
from personalisation.api import router as personalisation_router
from points.api import router as points_router
from rewards.api import router as rewards_router
from shop.api import router as shop_router
from shop.errors import DomainError, error_body, http_status, validation_error_fields
from shop.models import ApiKey
from shop.services import api_key_authenticate

logger = logging.getLogger(__name__)

HTTP_ERROR_CODES = {
    400: "invalid",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    429: "throttled",
}
# Where an input came from, as ninja reports it: dropped from the field names.
PARAM_SOURCES = {"body", "query", "path", "header", "cookie", "form", "file"}


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


class StrictJsonParser(Parser):
    """JSON as the RFC says it: Python's NaN and Infinity extensions are refused."""

    def parse_body(self, request: HttpRequest) -> dict:
        return json.loads(request.body, parse_constant=_reject_constant)


class OrjsonRenderer(BaseRenderer):
    """Answers written by orjson, several times faster than the json module. What
    it does not write itself (decimals, lazy strings) and dates and times are
    written by django-ninja's encoder, as before: the same bytes, sooner."""

    media_type = "application/json"
    _encoder = NinjaJSONEncoder()

    def render(self, request: HttpRequest, data: Any, *, response_status: int) -> bytes:
        return orjson.dumps(
            data, default=self._encoder.default, option=orjson.OPT_PASSTHROUGH_DATETIME
        )


class ApiKeyBearer(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        return api_key_authenticate(key=token)


class ApiKeyThrottle(SimpleRateThrottle):
    """At most API_RATE_LIMIT requests per key ("600/min"; empty: no limit), counted
    in the cache: set CACHE_URL to a shared cache (Redis) so that every worker
    counts the same requests. Past the limit: 429 with Retry-After."""

    scope = "api_key"
    THROTTLE_RATES = {"api_key": None}  # the rate is read at each request, below

    def allow_request(self, request: HttpRequest) -> bool:
        self.rate = settings.API_RATE_LIMIT or None  # read each time: tests change it
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request)

    def get_cache_key(self, request: HttpRequest) -> str | None:
        api_key = getattr(request, "auth", None)
        if api_key is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": api_key.pk}


api = NinjaAPI(
    title="Loyalty shop API",
    version="1",
    description="Enrol members, report orders and refunds, spend points at checkout.",
    urls_namespace="api-v1",
    auth=ApiKeyBearer(),
    throttle=ApiKeyThrottle(),
    parser=StrictJsonParser(),
    renderer=OrjsonRenderer(),
)
api.add_router("", shop_router)
api.add_router("", points_router)
api.add_router("", rewards_router)
api.add_router("", personalisation_router)
api.add_router("", campaigns_router)


def _error(
    request: HttpRequest,
    status: int,
    code: str,
    message: str,
    fields: Mapping[str, str] | None = None,
) -> HttpResponse:
    return api.create_response(request, error_body(code, message, fields), status=status)


def _field_name(loc: tuple | list) -> str:
    parts = list(loc)
    if parts and parts[0] in PARAM_SOURCES:
        source = parts.pop(0)
        if source == "body" and parts:
            parts.pop(0)  # the endpoint's parameter name, not part of the JSON
    return ".".join(str(part) for part in parts) or "body"


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return _error(request, http_status(exc.code), exc.code, exc.message, exc.fields)


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    fields: dict[str, str] = {}
    for error in exc.errors:
        name = _field_name(error.get("loc", ()))
        fields[name] = f"{fields[name]} {error['msg']}" if name in fields else error["msg"]
    # A bad query string is a malformed request (400); a body that parses but says
    # something impossible is refused (422).
    in_query = any(tuple(error.get("loc", ()))[:1] == ("query",) for error in exc.errors)
    return _error(request, 400 if in_query else 422, "invalid", "The request is not valid.", fields)


@api.exception_handler(DjangoValidationError)
def _django_validation_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    fields = validation_error_fields(exc)
    return _error(request, 422, "invalid", "The request is not valid.", fields)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    message = "Send a valid API key: Authorization: Bearer <key>."
    return _error(request, 401, "unauthenticated", message)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400:  # django-ninja could not parse the body
        return _error(request, 400, "invalid", "The body is not JSON.", {"body": "Not JSON."})
    code = HTTP_ERROR_CODES.get(exc.status_code, "error")
    return _error(request, exc.status_code, code, exc.message)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "not_found", "Not found.")


@api.exception_handler(Exception)
def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("API error on %s %s", request.method, request.path, exc_info=exc)
    return _error(request, 500, "server_error", "Something went wrong on our side.")
