from batch.command import JobCommand


class Command(JobCommand):
    help = "Nightly job: lots past expiry are expired, oldest first."
    job_name = "expire_points"
