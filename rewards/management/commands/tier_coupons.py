from batch.command import JobCommand


class Command(JobCommand):
    help = "Nightly job: tier benefit coupons (monthly free shipping, birthday gift), once."
    job_name = "tier_coupons"
