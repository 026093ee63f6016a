from batch.command import JobCommand


class Command(JobCommand):
    help = "Nightly job: behaviour events past BEHAVIOUR_RETENTION_DAYS deleted."
    job_name = "behaviour_purge"
