"""Django's PostgreSQL backend, with a health check that costs no round trip
(settings.py uses it whenever DATABASE_URL is PostgreSQL).

With CONN_HEALTH_CHECKS Django checks a connection kept from an earlier request
before that request uses it, by a SELECT 1: a round trip to the server on every
request, which an order (`python -m bench orders_http`) paid beside its own.
Here a connection kept is usable unless psycopg knows it is closed or broken,
or the server has sent something on it since its last answer: a server that
ends the session (a restart, pg_terminate_backend, an idle timeout) says so
and closes the socket, and either makes the socket readable. Only then is
Django's SELECT 1 sent, which fails on a lost connection and lets Django open
a new one.
"""

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        # poll, not select: select refuses a descriptor numbered 1024 or more,
        # which a worker holding many keep-alive connections reaches.
        poller = select.poll()
        poller.register(connection.fileno(), select.POLLIN)
        return not poller.poll(0) or super().is_usable()
