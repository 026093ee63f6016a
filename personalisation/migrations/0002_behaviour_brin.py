"""The index behaviour events are read and purged by: on PostgreSQL a BRIN index
on occurred_at (a few pages for hundreds of millions of rows, which arrive in
time order, so it costs ingestion almost nothing); elsewhere a plain index."""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX behaviour_occurred_brin ON personalisation_behaviourevent "
            "USING brin (occurred_at)"
        )
    else:
        schema_editor.execute(
            "CREATE INDEX behaviour_occurred ON personalisation_behaviourevent (occurred_at)"
        )


def drop(apps, schema_editor):
    name = (
        "behaviour_occurred_brin"
        if schema_editor.connection.vendor == "postgresql"
        else "behaviour_occurred"
    )
    schema_editor.execute(f"DROP INDEX {name}")


class Migration(migrations.Migration):
    dependencies = [("personalisation", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
