from batch.command import JobCommand


class Command(JobCommand):
    help = "Nightly job: coupons for price drops after paid-plan members' orders."
    job_name = "price_protection"
