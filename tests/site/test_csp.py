"""The Content Security Policy: every page says it, and no page the site serves
needs what it forbids (inline script, inline style, event-handler attributes)."""

import re

import pytest
from django.contrib import admin
from django.urls import URLResolver, get_resolver, reverse

from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S | re.I)
STYLE = re.compile(r"<style\b", re.I)
INLINE_ATTRIBUTE = re.compile(r"<[^>]*\s(style|on[a-z]+)\s*=", re.I)


def _portal_pages(patterns=None, prefix=""):
    """Every page of the member's portal (/me/...) that takes no argument, so that a
    page added later is checked too."""
    pages = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            pages += _portal_pages(pattern.url_patterns, route)
        elif route.startswith("me/") and "<" not in route:
            pages.append("/" + route)
    return pages


PORTAL_PAGES = _portal_pages()
PUBLIC_PAGES = ["members:home", "account_login", "account_signup", "account_reset_password"]


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        name: sources
        for name, *sources in (part.split() for part in header.split(";") if part.strip())
    }


def _assert_nothing_inline(html: str) -> None:
    for attributes, body in SCRIPT.findall(html):
        assert "src=" in attributes or "application/json" in attributes, body[:200]
    assert not STYLE.search(html)
    assert not INLINE_ATTRIBUTE.search(html), INLINE_ATTRIBUTE.search(html)


def test_the_policy_forbids_inline_script_and_style(client):
    policy = _policy(client.get(reverse("members:home")))

    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["style-src"] == ["'self'"]


@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_public_pages_need_nothing_inline(client, name):
    response = client.get(reverse(name))

    assert response.status_code == 200
    _assert_nothing_inline(response.content.decode())


def test_every_portal_page_is_checked():
    assert {"/me/", "/me/points/", "/me/tier/", "/me/profile/"} <= set(PORTAL_PAGES)


@pytest.mark.parametrize("url", PORTAL_PAGES)
def test_portal_pages_need_nothing_inline(client, url):
    client.force_login(MemberFactory().user)

    response = client.get(url)

    assert response.status_code == 200
    _assert_nothing_inline(response.content.decode())


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/members/member/",
        "/admin/members/member/{pk}/change/",
        "/admin/members/member/{pk}/adjust-points/",
        "/admin/members/member/{pk}/override-tier/",
        "/admin/points/entry/",
        "/admin/members/member/{pk}/sanction/",
        "/admin/members/user/add/",
    ],
)
def test_admin_pages_need_nothing_inline(admin_client, url):
    member = MemberFactory()

    response = admin_client.get(url.format(pk=member.pk))

    assert response.status_code == 200
    _assert_nothing_inline(response.content.decode())


def test_the_api_docs_use_the_local_swagger_ui(client):
    response = client.get("/api/v1/docs")

    assert response.status_code == 200
    html = response.content.decode()
    assert "cdn." not in html
    _assert_nothing_inline(html)


@pytest.mark.parametrize(
    "model", list(admin.site._registry), ids=lambda model: model._meta.label_lower
)
def test_every_admin_list_needs_nothing_inline(admin_client, model):
    opts = model._meta

    response = admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))

    assert response.status_code == 200
    _assert_nothing_inline(response.content.decode())
