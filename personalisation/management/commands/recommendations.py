from batch.command import JobCommand


class Command(JobCommand):
    help = "Nightly job: the recommender's models and every member's top products."
    job_name = "recommendations"
