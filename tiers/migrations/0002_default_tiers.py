from django.db import migrations

from tiers.defaults import default_tiers_create


def create(apps, schema_editor):
    default_tiers_create(apps.get_model("tiers", "Tier"))


class Migration(migrations.Migration):
    dependencies = [("tiers", "0001_initial")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
