"""The site as `python -m bench orders_http` serves it with gunicorn: the project's
URLs (`loyalty_site.urls`) and, beside them, one trivial JSON view at
/bench/ceiling, the most an endpoint of this stack can do (the same middleware,
no database). Only the benchmark serves this module; the product has no such view.

    gunicorn bench.server:application
"""

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, JsonResponse
from django.urls import include, path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loyalty_site.settings")
settings.ROOT_URLCONF = __name__  # the urlpatterns below, read at the first request
application = get_wsgi_application()


def ceiling(request: HttpRequest) -> JsonResponse:
    """Says which worker answered, so the client can tell how its keep-alive
    connections spread over the workers."""
    return JsonResponse({"status": "ok", "worker": os.getpid()})


urlpatterns = [
    path("bench/ceiling", ceiling),
    path("", include("loyalty_site.urls")),
]
