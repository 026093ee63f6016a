"""The site's guards against guessing and spoofing: the admin's login goes through
allauth's rate-limited one, and the limits count each client behind a proxy."""

import pytest
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.5"  # the address every request comes from behind the proxy


def _log_in(client, email, password, **headers):
    return client.post(
        reverse("account_login"),
        {"login": email, "password": password},
        headers=headers,
        REMOTE_ADDR=PROXY,
    )


def test_the_admin_login_sends_staff_to_the_sites_login(client):
    response = client.get("/admin/", follow=True)

    assert response.redirect_chain[-1][0].startswith(reverse("account_login"))
    assert "next=%2Fadmin%2F" in response.redirect_chain[-1][0]


def test_the_admin_login_form_itself_logs_nobody_in(client):
    staff = UserFactory(is_staff=True, is_superuser=True)

    response = client.post(reverse("admin:login"), {"username": staff.email, "password": PASSWORD})

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert "_auth_user_id" not in client.session


def test_staff_log_in_through_the_site_and_reach_the_admin(client):
    staff = UserFactory(is_staff=True, is_superuser=True)

    response = client.post(
        reverse("account_login") + "?next=/admin/",
        {"login": staff.email, "password": PASSWORD},
    )

    assert response.url == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_guessing_a_staff_password_is_throttled(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    for _attempt in range(5):
        assert _log_in(client, staff.email, "wrong-guess").status_code == 200

    response = _log_in(client, staff.email, PASSWORD)

    assert "_auth_user_id" not in client.session
    assert "Too many failed login attempts" in response.content.decode()


@pytest.fixture
def login_limit(settings):
    settings.ACCOUNT_RATE_LIMITS = {"login": "3/m/ip"}


def _exhaust(client, **headers):
    for attempt in range(3):
        assert _log_in(client, f"guess{attempt}@example.com", "x", **headers).status_code == 200
    assert _log_in(client, "guess@example.com", "x", **headers).status_code == 429


def test_behind_a_trusted_proxy_each_client_has_its_own_limit(client, settings, login_limit):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    _exhaust(client, x_forwarded_for="203.0.113.7")

    other_client = _log_in(client, "guess@example.com", "x", x_forwarded_for="198.51.100.9")

    assert other_client.status_code == 200


def test_without_a_trusted_proxy_the_forwarded_address_is_ignored(client, login_limit):
    _exhaust(client, x_forwarded_for="203.0.113.7")

    spoofed = _log_in(client, "guess@example.com", "x", x_forwarded_for="198.51.100.9")

    assert spoofed.status_code == 429


def test_a_request_that_skipped_a_proxy_counts_under_its_own_address(client, settings, login_limit):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 2
    _exhaust(client, x_forwarded_for="203.0.113.7")

    short_header = _log_in(client, "guess@example.com", "x", x_forwarded_for="198.51.100.9")

    assert short_header.status_code == 429
