"""The settings as a deployment reads them from its environment: safe when a
variable is missing, and each documented variable doing what the README says."""

import importlib.util

import environ
import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured

PRODUCTION_KEY = "k" * 20 + "production-secret-from-the-environment-0123456789"
VARIABLES = [
    "DEBUG",
    "SECRET_KEY",
    "EMAIL_URL",
    "SECURE_PROXY_SSL_HEADER",
    "ALLAUTH_TRUSTED_PROXY_COUNT",
    "SECURE_SSL_REDIRECT",
    "SENTRY_DSN",
]


@pytest.fixture
def read_settings(monkeypatch):
    """Read loyalty_site.settings afresh with only the given variables set (no
    .env file, none of the variables above from the shell); returns its names."""

    def read(**env: str) -> dict:
        monkeypatch.setattr(environ.Env, "read_env", classmethod(lambda cls, *a, **k: None))
        for name in VARIABLES:
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        spec = importlib.util.find_spec("loyalty_site.settings")
        fresh = importlib.util.spec_from_file_location("loyalty_site.settings_read", spec.origin)
        module = importlib.util.module_from_spec(fresh)
        fresh.loader.exec_module(module)
        return vars(module)

    return read


def test_debug_is_off_unless_set(read_settings):
    production = read_settings(SECRET_KEY=PRODUCTION_KEY)

    assert production["DEBUG"] is False
    assert production["SECURE_SSL_REDIRECT"] is True
    assert production["SESSION_COOKIE_SECURE"] is True
    assert read_settings(DEBUG="true")["DEBUG"] is True


@pytest.mark.parametrize(
    ("secret_key", "says"), [(None, "not set"), ("", "not set"), ("x" * 49, "too short")]
)
def test_without_debug_a_missing_or_short_secret_key_stops_the_start(
    read_settings, secret_key, says
):
    env = {} if secret_key is None else {"SECRET_KEY": secret_key}

    with pytest.raises(ImproperlyConfigured, match=f"SECRET_KEY is {says}"):
        read_settings(**env)


def test_development_needs_no_secret_key(read_settings):
    assert read_settings(DEBUG="true")["SECRET_KEY"]


def test_the_proxy_ssl_header_is_believed_only_when_configured(read_settings):
    assert "SECURE_PROXY_SSL_HEADER" not in read_settings(SECRET_KEY=PRODUCTION_KEY)

    behind_proxy = read_settings(
        SECRET_KEY=PRODUCTION_KEY, SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto"
    )

    assert behind_proxy["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")


def test_the_trusted_proxy_count_comes_from_the_environment(read_settings):
    assert read_settings(DEBUG="true")["ALLAUTH_TRUSTED_PROXY_COUNT"] == 0
    assert (
        read_settings(DEBUG="true", ALLAUTH_TRUSTED_PROXY_COUNT="2")["ALLAUTH_TRUSTED_PROXY_COUNT"]
        == 2
    )


def test_filemail_url_writes_to_the_absolute_directory_it_names(read_settings, settings, tmp_path):
    directory = tmp_path / "outgoing"
    loaded = read_settings(DEBUG="true", EMAIL_URL=f"filemail://{directory}")
    assert str(directory).startswith("/")
    assert loaded["EMAIL_FILE_PATH"] == str(directory)

    settings.EMAIL_BACKEND = loaded["EMAIL_BACKEND"]
    settings.EMAIL_FILE_PATH = loaded["EMAIL_FILE_PATH"]
    mail.send_mail("Hello", "A message.", "from@example.com", ["to@example.com"])

    (written,) = directory.iterdir()
    assert "A message." in written.read_text()
