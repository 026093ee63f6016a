from batch.command import JobCommand


class Command(JobCommand):
    help = "Nightly job: the KPIs of the day before --as-of, for the staff dashboard."
    job_name = "kpi_snapshot"
