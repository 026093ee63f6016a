"""Running the nightly jobs: a run is split into member-id ranges (chunks), each
done in its own transaction as a Celery subtask, so more workers make a night
faster and a crash loses one chunk, which a re-run redoes."""

import datetime as dt
import time
import zoneinfo
from collections import Counter
from collections.abc import Callable

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone

from members.models import Member

from . import registry
from .models import JobChunk, JobRun, Status

DEFAULT_CHUNK_SIZE = 10_000
POLL_SECONDS = 0.5

Progress = Callable[[int, int], None]

log = structlog.get_logger(__name__)


def program_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.PROGRAM_TIME_ZONE)


def program_today() -> dt.date:
    return timezone.now().astimezone(program_zone()).date()


def program_midnight(day: dt.date) -> dt.datetime:
    """The instant the programme's day `day` begins: the cutoff of a night's run."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=program_zone())


def job_run_create(*, name: str, as_of: dt.date, chunk_size: int = DEFAULT_CHUNK_SIZE) -> JobRun:
    registry.get(name)
    bounds = Member.objects.aggregate(first=Min("id"), last=Max("id"))
    with transaction.atomic():
        run = JobRun.objects.create(job=name, as_of=as_of, chunk_size=chunk_size)
        chunks = []
        if bounds["first"] is not None:
            for first in range(bounds["first"], bounds["last"] + 1, chunk_size):
                chunks.append(JobChunk(run=run, first_id=first, last_id=first + chunk_size - 1))
        JobChunk.objects.bulk_create(chunks)
        run.chunks_total = len(chunks)
        if not chunks:
            run.status = Status.SUCCEEDED
            run.finished_at = timezone.now()
        run.save(update_fields=["chunks_total", "status", "finished_at"])
    log.info(
        "job_run_started",
        job=name,
        as_of=as_of.isoformat(),
        run_id=run.pk,
        chunks=run.chunks_total,
        chunk_size=chunk_size,
    )
    return run


class _AlreadyDone(Exception):
    pass


def _covered(chunk: JobChunk) -> bool:
    """Whether an earlier run of the same job and day already did this chunk's
    member range (a second run of a night, or a re-run after a crash)."""
    return (
        JobChunk.objects.filter(
            run__job=chunk.run.job,
            run__as_of=chunk.run.as_of,
            status=Status.SUCCEEDED,
            first_id__lte=chunk.first_id,
            last_id__gte=chunk.last_id,
        )
        .exclude(run_id=chunk.run_id)
        .exists()
    )


def job_chunk_execute(*, chunk_id: int) -> dict[str, int]:
    """Do one chunk's work and mark it done in the same transaction. A chunk that
    is already done (a duplicate delivery) does nothing; a chunk whose range an
    earlier run of the same night finished is skipped, and counted as such."""
    chunk = JobChunk.objects.select_related("run").get(pk=chunk_id)
    job = registry.get(chunk.run.job)
    chunk_log = log.bind(
        job=job.name,
        as_of=chunk.run.as_of.isoformat(),
        run_id=chunk.run_id,
        chunk_id=chunk_id,
        first_id=chunk.first_id,
        last_id=chunk.last_id,
    )
    start = time.monotonic()
    try:
        with transaction.atomic():
            locked = JobChunk.objects.select_for_update().get(pk=chunk_id)
            if locked.status == Status.SUCCEEDED:
                raise _AlreadyDone
            if _covered(chunk):
                counts = {"chunks_skipped": 1}
            else:
                counts = job.run_chunk(chunk.run.as_of, chunk.first_id, chunk.last_id)
            JobChunk.objects.filter(pk=chunk_id).update(
                status=Status.SUCCEEDED, counts=counts, error="", finished_at=timezone.now()
            )
    except _AlreadyDone:
        chunk_log.info("job_chunk_already_done")
        return {}
    except Exception as error:
        chunk_log.exception("job_chunk_failed", seconds=round(time.monotonic() - start, 3))
        JobChunk.objects.filter(pk=chunk_id).update(
            status=Status.FAILED, error=repr(error), finished_at=timezone.now()
        )
        JobRun.objects.filter(pk=chunk.run_id, status=Status.RUNNING).update(
            status=Status.FAILED, error=repr(error), finished_at=timezone.now()
        )
        raise
    chunk_log.info("job_chunk_finished", seconds=round(time.monotonic() - start, 3), **counts)
    _job_run_finish_if_complete(run_id=chunk.run_id)
    return counts


def _job_run_finish_if_complete(*, run_id: int) -> None:
    chunks = JobChunk.objects.filter(run_id=run_id)
    if chunks.exclude(status=Status.SUCCEEDED).exists():
        return
    totals: Counter[str] = Counter()
    for counts in chunks.values_list("counts", flat=True):
        totals.update(counts)
    now = timezone.now()
    finished = JobRun.objects.filter(pk=run_id, status=Status.RUNNING).update(
        status=Status.SUCCEEDED, counts=dict(totals), finished_at=now
    )
    if finished:
        run = JobRun.objects.get(pk=run_id)
        log.info(
            "job_run_finished",
            job=run.job,
            as_of=run.as_of.isoformat(),
            run_id=run_id,
            status=run.status,
            chunks=run.chunks_total,
            seconds=round((now - run.started_at).total_seconds(), 3),
            **totals,
        )


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
    from .tasks import job_chunk_group, run_chunk

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
