from batch.command import JobCommand


class Command(JobCommand):
    help = "Nightly job: reminders of paid plans ending soon; plans whose time is up end."
    job_name = "paid_plans"
