from batch.command import JobCommand


class Command(JobCommand):
    help = "Nightly job: every member's profile tags from the rules."
    job_name = "tags"
