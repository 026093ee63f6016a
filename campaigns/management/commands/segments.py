from batch.command import JobCommand


class Command(JobCommand):
    help = "Nightly job: every member's lifecycle stage and RFM scores."
    job_name = "segments"
