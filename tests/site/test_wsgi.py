"""The WSGI application gunicorn serves: the shop's API through its own short
middleware chain, the portal through the whole one."""

import io
import json
from wsgiref.util import setup_testing_defaults

import pytest
from django.core.signals import request_started
from django.db import close_old_connections
from django.utils import timezone

from loyalty_site.wsgi import application
from shop.models import Order
from tests.factories import ApiKeyFactory, MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """As Django's test client does: the request must not close the connection
    the test's transaction is on."""
    request_started.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)


def call(method, path, body=b"", headers=None):
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/json",
        "wsgi.input": io.BytesIO(body),
        "HTTP_HOST": "localhost",
        **{
            f"HTTP_{name.upper().replace('-', '_')}": value
            for name, value in (headers or {}).items()
        },
    }
    setup_testing_defaults(environ)
    answer = {}

    def start_response(status, response_headers, exc_info=None):
        answer["status"] = int(status.split()[0])
        answer["headers"] = dict(response_headers)

    content = b"".join(application(environ, start_response))
    return answer["status"], answer["headers"], content


def test_an_order_through_the_api_chain_is_recorded_without_the_portal_s_middleware():
    member, key = MemberFactory(), ApiKeyFactory()
    body = {
        "order_id": "W-1",
        "member": member.number,
        "placed_at": timezone.now().isoformat(),
        "currency": "CNY",
        "total": "100.00",
    }
    status, headers, content = call(
        "POST",
        "/api/v1/orders",
        json.dumps(body).encode(),
        {"Authorization": f"Bearer {key.plaintext}", "Accept-Language": "zh-hans"},
    )

    assert status == 201, content
    assert json.loads(content)["points"] == 100
    assert Order.objects.get().order_id == "W-1"
    # no session, CSRF, locale or clickjacking middleware on the way
    assert "Set-Cookie" not in headers
    assert "Content-Language" not in headers
    assert "X-Frame-Options" not in headers
    assert "Vary" not in headers


def test_an_unknown_api_path_is_still_a_json_404():
    status, _headers, content = call("GET", "/api/v1/nothing-here")

    assert status == 404
    assert json.loads(content)["error"]["code"] == "not_found"


def test_the_portal_keeps_its_middleware():
    status, headers, _content = call(
        "GET", "/accounts/login/", headers={"Accept-Language": "zh-hans"}
    )

    assert status == 200
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Content-Language"] == "zh-hans"
    assert "csrftoken" in headers.get("Set-Cookie", "")
