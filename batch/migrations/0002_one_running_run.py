from django.db import migrations, models


def fail_all_but_the_latest_running_run(apps, schema_editor):
    """Runs left `running` side by side for one job and day (before runs were
    exclusive): the latest stays, the others are marked failed."""
    JobRun = apps.get_model("batch", "JobRun")
    latest = {}
    for run in JobRun.objects.filter(status="running").order_by("started_at", "pk"):
        earlier = latest.get((run.job, run.as_of))
        if earlier is not None:
            JobRun.objects.filter(pk=earlier).update(
                status="failed", error="superseded by a later run of the same job and day"
            )
        latest[(run.job, run.as_of)] = run.pk


class Migration(migrations.Migration):
    dependencies = [
        ("batch", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(fail_all_but_the_latest_running_run, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="jobrun",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "running")),
                fields=("job", "as_of"),
                name="jobrun_one_running",
            ),
        ),
    ]
