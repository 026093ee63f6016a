"""The nightly jobs. Each app registers its jobs in its AppConfig.ready(); the
order number says where a job runs in `run_nightly`."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

ChunkFn = Callable[[dt.date, int, int], dict[str, int]]


@dataclass(frozen=True)
class Job:
    name: str
    order: int
    run_chunk: ChunkFn
    description: str = ""


_jobs: dict[str, Job] = {}


def register(job: Job) -> None:
    _jobs[job.name] = job


def get(name: str) -> Job:
    return _jobs[name]


def all_in_order() -> list[Job]:
    return sorted(_jobs.values(), key=lambda job: job.order)
