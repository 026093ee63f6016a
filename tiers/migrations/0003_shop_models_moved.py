"""The shop's models moved to the shop app: the foreign keys now name them there.
The tables and their constraints are unchanged (state only)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('shop', '0001_initial'),
        ('tiers', '0002_default_tiers'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='planpurchase',
                    name='order',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='shop.order'),
                ),
            ],
        ),
    ]
