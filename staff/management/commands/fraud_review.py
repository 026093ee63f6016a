from batch.command import JobCommand


class Command(JobCommand):
    help = "Nightly job: every member the fraud rules flag goes on the review queue."
    job_name = "fraud_review"
