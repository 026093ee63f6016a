"""Running a job now and waiting for it: the management commands' path (and the
benchmarks'). Apart from batch.services so that the services never import the
Celery tasks, which wrap them."""

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable

from django.conf import settings

from .models import JobRun, Status
from .services import DEFAULT_CHUNK_SIZE, job_run_create
from .tasks import job_chunk_group, run_chunk

POLL_SECONDS = 0.5

Progress = Callable[[int, int], None]


def job_run(
    *,
    name: str,
    as_of: dt.date,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: Progress | None = None,
) -> JobRun:
    """Run a job now and wait for it: the management commands' path. With a broker
    the chunks go to the workers as a Celery group and this waits on their rows;
    without one (eager) they run here, one after another."""
    run = job_run_create(name=name, as_of=as_of, chunk_size=chunk_size)
    chunk_ids = list(run.chunks.order_by("first_id").values_list("id", flat=True))
    if settings.CELERY_TASK_ALWAYS_EAGER:
        for done, chunk_id in enumerate(chunk_ids, start=1):
            run_chunk.apply(args=(chunk_id,), throw=True)
            if progress:
                progress(done, len(chunk_ids))
    else:
        job_chunk_group(chunk_ids).apply_async()
        _wait(run=run, progress=progress)
    run.refresh_from_db()
    return run


def _wait(*, run: JobRun, progress: Progress | None) -> None:
    while True:
        states = Counter(run.chunks.values_list("status", flat=True))
        if progress:
            progress(states[Status.SUCCEEDED], run.chunks_total)
        if states[Status.FAILED] or states[Status.RUNNING] == 0:
            return
        time.sleep(POLL_SECONDS)
