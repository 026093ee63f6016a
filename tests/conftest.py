import pytest
from django.db import connection
from django.test import Client


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from django.conf import settings

    vendor = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    if vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://...")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _test_settings(settings: object) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # type: ignore[attr-defined]
    settings.CELERY_TASK_ALWAYS_EAGER = True  # type: ignore[attr-defined]
    # Marketing goes when due unless a test of the send time asks for the usual hour.
    settings.MARKETING_SEND_TIME = "when_due"  # type: ignore[attr-defined]
    settings.SMS_URL = "console://"  # type: ignore[attr-defined]
    settings.PASSWORD_HASHERS = [  # type: ignore[attr-defined]
        "django.contrib.auth.hashers.MD5PasswordHasher"
    ]
    settings.STORAGES = {  # type: ignore[attr-defined]
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """allauth's rate limits live in the cache; each test starts with none used,
    and with none of the API keys, tiers, plans and campaigns a process keeps."""
    from django.core.cache import cache

    from campaigns.catalogue import campaigns_cache_clear
    from shop.services import api_keys_forget
    from tiers.selectors import tier_rules_forget

    cache.clear()
    api_keys_forget()
    tier_rules_forget()
    campaigns_cache_clear()


@pytest.fixture(autouse=True)
def _default_tiers(request: pytest.FixtureRequest) -> None:
    """A transactional test empties every table when it ends, the rows of data
    migrations included: the tests after it get the default tiers and the default
    shop back."""
    names = set(request.fixturenames)
    if "transactional_db" in names or "db" in names:
        request.getfixturevalue("transactional_db" if "transactional_db" in names else "db")
    elif request.node.get_closest_marker("django_db") is not None:
        request.getfixturevalue("_django_db_helper")
    else:
        return
    from shop.models import DEFAULT_SHOP_CODE, Shop
    from tiers.defaults import default_tiers_create
    from tiers.models import Tier

    default_tiers_create(Tier)
    Shop.objects.get_or_create(code=DEFAULT_SHOP_CODE, defaults={"name": "Default shop"})


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def api_key(db: None) -> object:
    from tests.factories import ApiKeyFactory

    return ApiKeyFactory()


@pytest.fixture
def api_client(api_key: object) -> Client:
    """A test client that sends `api_key` as its bearer token."""
    return Client(headers={"Authorization": f"Bearer {api_key.plaintext}"})  # type: ignore[attr-defined]
