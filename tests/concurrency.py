"""Real races on PostgreSQL: threads with their own connections, released together."""

import threading
from concurrent.futures import ThreadPoolExecutor

from django.db import connection


def race(count, work, *, errors=False):
    """Run `work(i)` for i in range(count) in `count` threads released at once and
    return the results in order; with `errors`, an exception is returned as the
    thread's result instead of raised."""
    barrier = threading.Barrier(count)

    def run(i):
        barrier.wait()
        try:
            return work(i)
        except Exception as error:
            if errors:
                return error
            raise
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))
