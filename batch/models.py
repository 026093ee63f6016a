from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class JobRun(models.Model):
    """One run of a nightly job for one programme day. A re-run of the same job
    and day is a new row; the work itself is idempotent, so it redoes only what
    the earlier run did not finish. One run of a job and day at a time: the
    database holds at most one `running` row for them."""

    job = models.CharField(max_length=50)
    as_of = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    chunk_size = models.PositiveIntegerField()
    chunks_total = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["job", "as_of", "-started_at"], name="jobrun_lookup")]
        constraints = [
            models.UniqueConstraint(
                fields=["job", "as_of"],
                condition=models.Q(status=Status.RUNNING),
                name="jobrun_one_running",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.job} {self.as_of} ({self.status})"


class JobChunk(models.Model):
    """A member-id range of a run: done in its own transaction, together with
    this row's move to `succeeded`."""

    run = models.ForeignKey(JobRun, on_delete=models.CASCADE, related_name="chunks")
    first_id = models.BigIntegerField()
    last_id = models.BigIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "first_id"], name="jobchunk_unique_range"),
        ]

    def __str__(self) -> str:
        return f"{self.run_id}: {self.first_id}-{self.last_id}"
