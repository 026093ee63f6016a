import pytest
from django.db import OperationalError

from loyalty_site import health

pytestmark = pytest.mark.django_db


def test_healthz_is_200_when_the_database_answers(client, settings):
    settings.CELERY_BROKER_URL = ""

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}


def test_healthz_is_503_when_the_database_does_not_answer(client, monkeypatch):
    def broken_cursor():
        raise OperationalError("connection refused")

    monkeypatch.setattr(health.connection, "cursor", broken_cursor)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "down"


def test_healthz_is_503_when_the_configured_broker_does_not_answer(client, settings, monkeypatch):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    monkeypatch.setattr(health.celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "broker": "down"}


def test_healthz_checks_a_live_broker(client, settings, monkeypatch):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"
    monkeypatch.setattr(health.celery_app.conf, "broker_url", "redis://127.0.0.1:6379/0")

    response = client.get("/healthz")

    if response.status_code == 503:
        pytest.skip("no Redis on 127.0.0.1:6379 here")
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}
