from batch.command import JobCommand


class Command(JobCommand):
    help = "Nightly job: members with points expiring in 30 days are told, once."
    job_name = "warn_expiring"
