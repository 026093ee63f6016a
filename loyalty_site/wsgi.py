"""The site's WSGI application, as gunicorn serves it (gunicorn.conf.py).

The shop's API (every path under /api/) is served through API_MIDDLEWARE alone:
none of the portal's session, CSRF, authentication, messages, locale, framing
and CSP middleware, which the API does not use (each call is authenticated by
its API key and answered in JSON) and which cost every order a share of its
time (`python -m bench orders_http`). Every other path goes through MIDDLEWARE.
"""

import os
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest
from django.core.wsgi import get_wsgi_application
from django.http import HttpResponse
from django.utils import translation

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loyalty_site.settings")

API_PREFIX = "/api/"

WSGIApplication = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class ApiHandler(WSGIHandler):
    """Django's WSGI handler with the API's middleware (settings.API_MIDDLEWARE),
    answering in the site's default language (no locale middleware chooses one)."""

    def load_middleware(self, is_async: bool = False) -> None:
        # Django builds the chain from settings.MIDDLEWARE: it is the API's list
        # while this handler is made, once, before any request is served.
        portal = settings.MIDDLEWARE
        settings.MIDDLEWARE = settings.API_MIDDLEWARE
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = portal

    def get_response(self, request: WSGIRequest) -> HttpResponse:
        translation.activate(settings.LANGUAGE_CODE)
        return super().get_response(request)


def site_application() -> WSGIApplication:
    portal = get_wsgi_application()  # sets Django up first
    api = ApiHandler()

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        handler = api if environ.get("PATH_INFO", "").startswith(API_PREFIX) else portal
        return handler(environ, start_response)

    return application


application = site_application()
