"""gunicorn's settings for this site (read from the working directory by default).

Several worker processes serve the site, each with its own memory: Prometheus
counters are kept per process in files under PROMETHEUS_MULTIPROC_DIR and
/metrics adds them up. This file turns that on: it uses the directory the
environment names, or makes one, and empties it when gunicorn starts (counters
then start again from zero, which Prometheus's rate() takes in its stride).
"""

import os
import tempfile
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def on_starting(server: object) -> None:
    path = os.environ.get(MULTIPROC_ENV) or tempfile.mkdtemp(prefix="loyalty-metrics-")
    directory = Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROC_ENV] = str(directory)


def child_exit(server: object, worker: object) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
