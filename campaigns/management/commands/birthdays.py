from batch.command import JobCommand


class Command(JobCommand):
    help = "Nightly job: birthday gifts of the active birthday campaigns, once a year."
    job_name = "birthdays"
