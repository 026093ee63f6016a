"""The site as `python -m bench orders_http` serves it with gunicorn: the site's
WSGI application (`loyalty_site.wsgi`: the API's paths through the API's short
middleware chain, the rest through the portal's) on the project's URLs and,
beside them, one trivial JSON view, the most an endpoint of this stack can do
(no database): at /bench/ceiling through the portal's middleware, as the
ceiling the targets are measured against, and at /api/bench/ceiling through
the API's. Only the benchmark serves this module; the product has no such view.

    gunicorn bench.server:application
"""

import os

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import include, path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loyalty_site.settings")

from loyalty_site.wsgi import application

settings.ROOT_URLCONF = __name__  # the urlpatterns below, read at the first request

__all__ = ["application"]


def ceiling(request: HttpRequest) -> JsonResponse:
    """Says which worker answered, so the client can tell how its keep-alive
    connections spread over the workers."""
    return JsonResponse({"status": "ok", "worker": os.getpid()})


urlpatterns = [
    path("bench/ceiling", ceiling),
    path("api/bench/ceiling", ceiling),
    path("", include("loyalty_site.urls")),
]
