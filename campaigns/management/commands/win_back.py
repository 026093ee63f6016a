from batch.command import JobCommand


class Command(JobCommand):
    help = "Nightly job: dormant members get the win-back campaigns' offer, once per dormancy."
    job_name = "win_back"
