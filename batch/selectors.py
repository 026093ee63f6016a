"""Reads of the job runs for operators: the latest run of each job, for the
metrics at /metrics (from the database, so they are the same whichever process
ran the chunks)."""

from dataclasses import dataclass

from . import registry
from .models import JobRun, Status


@dataclass(frozen=True)
class JobHealth:
    job: str
    last_finished: JobRun | None
    last_succeeded: JobRun | None
    running: int


def job_health_list() -> list[JobHealth]:
    """For each registered job: its latest finished run, its latest successful
    run and how many runs are under way. A few indexed queries per job."""
    health = []
    for job in registry.all_in_order():
        runs = JobRun.objects.filter(job=job.name).order_by("-started_at")
        health.append(
            JobHealth(
                job=job.name,
                last_finished=runs.exclude(status=Status.RUNNING).exclude(finished_at=None).first(),
                last_succeeded=runs.filter(status=Status.SUCCEEDED).first(),
                running=runs.filter(status=Status.RUNNING).count(),
            )
        )
    return health
