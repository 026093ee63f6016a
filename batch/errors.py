"""What the batch framework refuses, each with a stable code."""

from .models import JobRun


class JobRunning(Exception):
    """A run of the same job and day is already under way: one at a time."""

    code = "job_running"

    def __init__(self, holder: JobRun) -> None:
        done = holder.chunks.filter(status="succeeded").count()
        super().__init__(
            f"{holder.job} {holder.as_of} is already running: run {holder.pk}, started "
            f"{holder.started_at:%Y-%m-%d %H:%M:%S %Z}, {done} of {holder.chunks_total} chunks "
            "done. Wait for it to end (a crashed run is taken over once it has made no "
            "progress for BATCH_STALE_RUN_MINUTES)."
        )
        self.holder = holder
