"""The shop API answers errors in JSON even where Django, not the API, answers:
an unknown path under /api/ (Django's 404 page) or a method the path does not take
(django-ninja's plain-text 405). A body over API_MAX_BODY_BYTES sent to the API or
the webhooks is answered 413 `too_large` before it is read."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from shop.errors import error_body

API_PREFIX = "/api/"
BODY_LIMITED = (API_PREFIX, "/webhooks/")
REWRITTEN = {
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "This path does not take that method."),
}


class ApiJsonErrorsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(BODY_LIMITED) and _too_large(request):
            message = f"The body is over {settings.API_MAX_BODY_BYTES} bytes."
            return JsonResponse(error_body("too_large", message), status=413)
        response = self.get_response(request)
        if (
            response.status_code in REWRITTEN
            and request.path.startswith(API_PREFIX)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            code, message = REWRITTEN[response.status_code]
            json_response = JsonResponse(error_body(code, message), status=response.status_code)
            if response.has_header("Allow"):
                json_response["Allow"] = response["Allow"]
            return json_response
        return response


def _too_large(request: HttpRequest) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False  # Django reads such a body as empty
    return length > settings.API_MAX_BODY_BYTES
