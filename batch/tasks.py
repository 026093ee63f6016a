"""Thin Celery wrappers around batch.services. The nightly chain: each job's
chunks run as a group; a chord starts the next job when all of them are done."""

import datetime as dt

from celery import chord, group, shared_task
from celery.canvas import Signature

from . import registry
from .errors import JobRunning
from .services import job_chunk_execute, job_run_create, program_today


@shared_task(name="batch.run_chunk")
def run_chunk(chunk_id: int) -> dict[str, int]:
    return job_chunk_execute(chunk_id=chunk_id)


def job_chunk_group(chunk_ids: list[int]) -> group:
    return group(run_chunk.si(chunk_id) for chunk_id in chunk_ids)


@shared_task(name="batch.run_jobs")
def run_jobs(names: list[str], as_of: str) -> None:
    """Start the first job of `names` for the day `as_of`; the rest follow it."""
    if not names:
        return
    first, rest = names[0], names[1:]
    try:
        run = job_run_create(name=first, as_of=dt.date.fromisoformat(as_of))
    except JobRunning:
        return  # a second start (a second beat, a redelivery): the run under way goes on
    chunk_ids = list(run.chunks.order_by("first_id").values_list("id", flat=True))
    after: Signature = run_jobs.si(rest, as_of)
    if not chunk_ids:
        after.apply_async()
    elif rest:
        chord(job_chunk_group(chunk_ids), after).apply_async()
    else:
        job_chunk_group(chunk_ids).apply_async()


@shared_task(name="batch.run_nightly")
def run_nightly(as_of: str | None = None) -> None:
    """Celery beat's entry point: every registered job, in order, for today."""
    day = as_of or program_today().isoformat()
    run_jobs.delay([job.name for job in registry.all_in_order()], day)
