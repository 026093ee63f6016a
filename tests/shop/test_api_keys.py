import datetime as dt
import hashlib
import io
import time
from types import SimpleNamespace

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from shop import services
from shop.models import ApiKey
from shop.selectors import shop_default
from shop.services import api_key_authenticate, api_key_create, api_key_revoke
from tests.factories import ApiKeyFactory, ShopFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_new_key_is_stored_only_as_its_hash():
    api_key, plaintext = api_key_create(name="Main shop", shop=shop_default())

    assert plaintext.startswith(f"lk_{api_key.prefix}_")
    assert len(api_key.prefix) == 8
    assert api_key.key_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    stored = ApiKey.objects.filter(pk=api_key.pk).values().get()
    assert plaintext not in {str(value) for value in stored.values()}


def test_keys_are_different_each_time():
    keys = {api_key_create(name="shop", shop=shop_default())[1] for _ in range(5)}
    assert len(keys) == 5


def test_authenticate_finds_the_key_and_notes_its_use():
    api_key, plaintext = api_key_create(name="shop", shop=shop_default())

    assert api_key_authenticate(key=plaintext) == api_key
    api_key.refresh_from_db()
    assert api_key.last_used_at is not None


@pytest.mark.parametrize("key", ["", "lk_nope_nope", "x" * 10_000])
def test_authenticate_refuses_unknown_keys(key):
    api_key_create(name="shop", shop=shop_default())
    assert api_key_authenticate(key=key) is None


def test_authenticate_refuses_a_revoked_key():
    api_key, plaintext = api_key_create(name="shop", shop=shop_default())
    api_key_revoke(api_key=api_key)

    assert api_key.revoked_at is not None
    assert api_key_authenticate(key=plaintext) is None


def test_revoking_twice_keeps_the_first_time():
    api_key = ApiKeyFactory()
    api_key_revoke(api_key=api_key)
    first = api_key.revoked_at
    api_key_revoke(api_key=api_key)
    assert api_key.revoked_at == first


def test_last_used_is_written_at_most_once_a_minute(django_assert_num_queries):
    api_key = ApiKeyFactory()
    noon = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)
    with time_machine.travel(noon, tick=False), django_assert_num_queries(2):
        api_key_authenticate(key=api_key.plaintext)  # the look-up and the update
    half_a_minute_later = noon + dt.timedelta(seconds=30)
    with time_machine.travel(half_a_minute_later, tick=False), django_assert_num_queries(0):
        api_key_authenticate(key=api_key.plaintext)  # kept by the process, used recently
    with time_machine.travel(dt.datetime(2026, 5, 1, 12, 2, tzinfo=dt.UTC), tick=False):
        api_key_authenticate(key=api_key.plaintext)
    api_key.refresh_from_db()
    assert api_key.last_used_at == dt.datetime(2026, 5, 1, 12, 2, tzinfo=dt.UTC)


def test_a_key_revoked_by_another_process_is_refused_within_seconds(monkeypatch):
    api_key = ApiKeyFactory()
    assert api_key_authenticate(key=api_key.plaintext) == api_key
    ApiKey.objects.filter(pk=api_key.pk).update(revoked_at=timezone.now())  # elsewhere
    assert api_key_authenticate(key=api_key.plaintext) == api_key  # kept, for now

    later = time.monotonic() + services.API_KEY_CACHE_SECONDS
    monkeypatch.setattr(services, "time", SimpleNamespace(monotonic=lambda: later))
    assert api_key_authenticate(key=api_key.plaintext) is None


def test_a_key_revoked_here_is_refused_at_once():
    api_key = ApiKeyFactory()
    assert api_key_authenticate(key=api_key.plaintext) == api_key
    api_key_revoke(api_key=ApiKey.objects.get(pk=api_key.pk))
    assert api_key_authenticate(key=api_key.plaintext) is None


def test_create_api_key_command_prints_a_working_key():
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_key", "Main shop", stdout=out, stderr=err)

    plaintext = out.getvalue().strip()
    api_key = ApiKey.objects.get()
    assert api_key.name == "Main shop"
    assert api_key.key_hash != plaintext
    assert plaintext not in api_key.key_hash
    assert api_key_authenticate(key=plaintext) == api_key
    assert api_key.shop == shop_default()
    assert "cannot be shown again" in err.getvalue()


def test_create_api_key_command_makes_the_key_of_the_shop_named():
    shop = ShopFactory(code="tea-house")
    out = io.StringIO()
    call_command(
        "create_api_key", "Tea house site", "--shop", "tea-house", stdout=out, stderr=io.StringIO()
    )

    assert api_key_authenticate(key=out.getvalue().strip()).shop == shop


def test_create_api_key_command_refuses_an_unknown_shop():
    with pytest.raises(CommandError, match="no-such-shop"):
        call_command("create_api_key", "Site", "--shop", "no-such-shop", stderr=io.StringIO())
    assert not ApiKey.objects.exists()


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_admin_creates_a_key_and_shows_it_once_on_the_page_not_in_a_message(staff_client):
    shop = ShopFactory()
    response = staff_client.post(
        reverse("admin:shop_apikey_add"), {"shop": shop.pk, "name": "Admin shop"}
    )

    assert response.status_code == 200
    api_key = ApiKey.objects.get(name="Admin shop")
    assert api_key.shop == shop
    page = response.content.decode()
    plaintext = page.split('data-testid="api-key">')[1].split("<")[0]
    assert api_key_authenticate(key=plaintext) == api_key
    assert "no-store" in response["Cache-Control"]
    assert plaintext not in str(response.cookies)
    assert not list(response.wsgi_request._messages)
    assert plaintext not in str(dict(staff_client.session))

    change_page = staff_client.get(reverse("admin:shop_apikey_change", args=[api_key.pk]))
    assert plaintext not in change_page.content.decode()
    assert api_key.key_hash not in change_page.content.decode()


def test_admin_lists_keys_without_their_hash(staff_client):
    api_key = ApiKeyFactory(name="Listed shop")

    page = staff_client.get(reverse("admin:shop_apikey_changelist")).content.decode()

    assert "Listed shop" in page
    assert api_key.prefix in page
    assert api_key.key_hash not in page


def test_admin_revoke_action(staff_client):
    keep, revoke = ApiKeyFactory(), ApiKeyFactory()

    staff_client.post(
        reverse("admin:shop_apikey_changelist"),
        {"action": "revoke", "_selected_action": [revoke.pk]},
    )

    assert api_key_authenticate(key=revoke.plaintext) is None
    assert api_key_authenticate(key=keep.plaintext) == keep
