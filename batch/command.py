"""The management command every nightly job shares: `manage.py <job> --as-of
YYYY-MM-DD [--chunk-size N]`, with a progress bar."""

import datetime as dt
from argparse import ArgumentParser, ArgumentTypeError
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from .errors import JobRunning
from .models import JobRun, Status
from .runner import job_run
from .services import DEFAULT_CHUNK_SIZE, program_today, program_zone


def as_of_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def add_job_arguments(parser: ArgumentParser) -> None:
    parser.add_argument(
        "--as-of",
        type=as_of_date,
        default=None,
        help="the programme day to run for (YYYY-MM-DD); default today in PROGRAM_TIME_ZONE",
    )
    parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE)
    parser.add_argument(
        "--allow-future",
        action="store_true",
        help="accept an --as-of after the programme's today (a rehearsal on a copy)",
    )


def run_with_progress(command: BaseCommand, name: str, as_of: dt.date, chunk_size: int) -> JobRun:
    if chunk_size < 1:
        raise CommandError("--chunk-size must be at least 1")
    with tqdm(desc=f"{name} {as_of}", unit="chunk", file=command.stdout, leave=True) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        try:
            run = job_run(name=name, as_of=as_of, chunk_size=chunk_size, progress=progress)
        except JobRunning as running:
            raise CommandError(str(running)) from None
    if run.status != Status.SUCCEEDED:
        raise CommandError(f"{name} {as_of} failed: {run.error}")
    counts = ", ".join(f"{key}={value}" for key, value in sorted(run.counts.items()))
    command.stdout.write(f"{name} {as_of}: {run.status} ({counts or 'nothing to do'})")
    return run


def job_options(options: dict[str, Any]) -> tuple[dt.date, int]:
    """The day and chunk size a job command was asked for. A day after the
    programme's today is refused without --allow-future: a mistyped year would
    expire a year of points early."""
    today = program_today()
    as_of = options["as_of"] or today
    if as_of > today and not options["allow_future"]:
        raise CommandError(
            f"--as-of {as_of} is after today ({today} in {program_zone().key}); "
            "give --allow-future to run a future day (a rehearsal on a copy)"
        )
    return as_of, options["chunk_size"]


class JobCommand(BaseCommand):
    job_name: str

    def add_arguments(self, parser: ArgumentParser) -> None:
        add_job_arguments(parser)

    def handle(self, *args: object, **options: Any) -> None:
        run_with_progress(self, self.job_name, *job_options(options))
