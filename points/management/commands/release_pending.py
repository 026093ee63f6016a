from batch.command import JobCommand


class Command(JobCommand):
    help = "Nightly job: pending points whose window closed become available."
    job_name = "release_pending"
