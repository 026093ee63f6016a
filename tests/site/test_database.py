"""The PostgreSQL backend's health check, which costs a request no round trip."""

import os
import time

import psycopg
import pytest
from django.db import connections
from django.db.backends.postgresql import base

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def kept():
    """A connection of its own, as a gunicorn thread keeps one between requests."""
    wrapper = connections.create_connection("default")
    wrapper.ensure_connection()
    yield wrapper
    wrapper.close()


def test_a_connection_kept_is_usable_without_asking_the_server(kept, monkeypatch):
    asked = []
    monkeypatch.setattr(base.DatabaseWrapper, "is_usable", lambda self: asked.append(1) or True)

    assert kept.is_usable()
    assert asked == []


def test_a_connection_the_server_ended_is_not_usable(kept):
    with kept.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    params = kept.get_connection_params()
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    time.sleep(0.2)

    assert not kept.is_usable()


def test_a_connection_on_a_high_descriptor_is_checked(kept):
    """A worker holding many keep-alive connections opens its database
    connection on a descriptor numbered 1024 or more, which select() refuses."""
    null = os.open(os.devnull, os.O_RDONLY)
    spare = [null]
    try:
        while len(spare) < 1100:
            spare.append(os.dup(null))
        high = connections.create_connection("default")
        high.ensure_connection()
        try:
            assert high.connection.fileno() >= 1024
            assert high.is_usable()
        finally:
            high.close()
    finally:
        for descriptor in spare:
            os.close(descriptor)
