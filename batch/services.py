"""Running the nightly jobs: a run is split into member-id ranges (chunks), each
done in its own transaction as a Celery subtask, so more workers make a night
faster and a crash loses one chunk, which a re-run redoes."""

import datetime as dt
import time
import zoneinfo
from collections import Counter

import structlog
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, Min
from django.utils import timezone

from members.models import Member

from . import registry
from .errors import JobRunning
from .models import JobChunk, JobRun, Status

DEFAULT_CHUNK_SIZE = 10_000
log = structlog.get_logger(__name__)


def program_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.PROGRAM_TIME_ZONE)


def program_today() -> dt.date:
    return timezone.now().astimezone(program_zone()).date()


def program_midnight(day: dt.date) -> dt.datetime:
    """The instant the programme's day `day` begins: the cutoff of a night's run."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=program_zone())


def job_run_create(*, name: str, as_of: dt.date, chunk_size: int = DEFAULT_CHUNK_SIZE) -> JobRun:
    """Start a run of the job `name` for the day `as_of`: its row and its chunks.
    One run of a job and day at a time: JobRunning, naming the run under way,
    when there is one (the database holds one `running` row per job and day; a
    second start at the same moment waits for the first's insert, then fails on
    that unique key). A running run with no progress for BATCH_STALE_RUN_MINUTES
    lost its process: it is marked failed, and this run takes over."""
    registry.get(name)
    _job_runs_fail_stale(name=name, as_of=as_of)
    bounds = Member.objects.aggregate(first=Min("id"), last=Max("id"))
    try:
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
    except IntegrityError:
        holder = JobRun.objects.filter(job=name, as_of=as_of, status=Status.RUNNING).first()
        if holder is None:  # it ended in the meantime
            raise
        log.warning("job_run_refused", job=name, as_of=as_of.isoformat(), held_by=holder.pk)
        raise JobRunning(holder) from None
    log.info(
        "job_run_started",
        job=name,
        as_of=as_of.isoformat(),
        run_id=run.pk,
        chunks=run.chunks_total,
        chunk_size=chunk_size,
    )
    return run


def _job_runs_fail_stale(*, name: str, as_of: dt.date) -> None:
    """Mark failed the running run of `name` and `as_of` that has made no
    progress (started, or a chunk finished) for BATCH_STALE_RUN_MINUTES."""
    since = timezone.now() - dt.timedelta(minutes=settings.BATCH_STALE_RUN_MINUTES)
    stale = JobRun.objects.filter(
        job=name, as_of=as_of, status=Status.RUNNING, started_at__lt=since
    ).exclude(chunks__finished_at__gte=since)
    for run_id in stale.values_list("pk", flat=True):
        abandoned = JobRun.objects.filter(pk=run_id, status=Status.RUNNING).update(
            status=Status.FAILED,
            error=f"abandoned: no progress for {settings.BATCH_STALE_RUN_MINUTES} minutes",
            finished_at=timezone.now(),
        )
        if abandoned:
            log.warning("job_run_abandoned", job=name, as_of=as_of.isoformat(), run_id=run_id)


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
