"""Django's PostgreSQL backend, with a health check that costs no round trip and
integers bound as bigint (settings.py uses it whenever DATABASE_URL is PostgreSQL).

With CONN_HEALTH_CHECKS Django checks a connection kept from an earlier request
before that request uses it, by a SELECT 1: a round trip to the server on every
request, which an order (`python -m bench orders_http`) paid beside its own.
Here a connection kept is usable unless psycopg knows it is closed or broken,
or the server has sent something on it since its last answer: a server that
ends the session (a restart, pg_terminate_backend, an idle timeout) says so
and closes the socket, and either makes the socket readable. Only then is
Django's SELECT 1 sent, which fails on a lost connection and lets Django open
a new one.

And Python integers are sent as bigint. psycopg otherwise picks smallint,
integer or bigint by each value, and prepares a statement once per combination
of its parameters' types: the ledger's statements bound by the server
(`points.ledger_sql.together`) were prepared again and again as amounts and ids
grew, and an array of amounts changed type with its largest. Django's own
queries write integers into the text (client-side binding), where the type
changes nothing.
"""

import select
from typing import Any

from django.db.backends.postgresql import base
from psycopg.types.numeric import Int8BinaryDumper, Int8Dumper


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self) -> dict[str, Any]:
        params: dict[str, Any] = super().get_connection_params()
        for dumper in (Int8Dumper, Int8BinaryDumper):
            params["context"].register_dumper(int, dumper)
        return params

    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        # poll, not select: select refuses a descriptor numbered 1024 or more,
        # which a worker holding many keep-alive connections reaches.
        poller = select.poll()
        poller.register(connection.fileno(), select.POLLIN)
        return not poller.poll(0) or super().is_usable()
