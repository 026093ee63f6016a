from batch.command import JobCommand


class Command(JobCommand):
    help = "Nightly job: members who met an active challenge get its points, once."
    job_name = "challenges"
