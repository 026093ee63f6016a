from batch.command import JobCommand


class Command(JobCommand):
    help = "Nightly job: tiers from the window's spend, grace periods, downgrades and nudges."
    job_name = "recalc_tiers"
