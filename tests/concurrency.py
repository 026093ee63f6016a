"""Real races on PostgreSQL: threads with their own connections, released together."""

import threading
import time
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


def wait_until_blocked(count=1, *, thread=None, timeout=10.0):
    """Wait (at most `timeout` seconds) until `count` other sessions of this test
    database wait on a lock, or until `thread` has ended without waiting: the
    interleaving a test wants is then in place. True when sessions wait. Polls
    pg_stat_activity from the calling thread's connection."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline and (thread is None or thread.is_alive()):
            # Within a transaction the statistics views keep their first snapshot.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database() AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] >= count:
                return True
            time.sleep(0.02)
    return False


def in_thread(work):
    """Start `work()` in a thread with its own connection; the thread, whose
    `.result` holds what `work` returned or raised once it is joined."""

    def run():
        try:
            thread.result = work()
        except Exception as error:
            thread.result = error
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.result = None
    thread.start()
    return thread
