"""Every event belongs to the shop that reported it (the existing ones to the
default shop); event ids are unique per shop."""

import django.db.models.deletion
from django.db import migrations, models

DEFAULT_SHOP_PK = 1  # made by shop 0002, the first row of its new table


class Migration(migrations.Migration):

    dependencies = [
        ('campaigns', '0007_event_cap_by_day_received'),
        ('members', '0005_shop_models_moved'),
        ('shop', '0002_shops'),
    ]

    operations = [
        migrations.AddField(
            model_name='event',
            name='shop',
            field=models.ForeignKey(db_index=False, default=DEFAULT_SHOP_PK, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='shop.shop'),
            preserve_default=False,
        ),
        migrations.AddConstraint(
            model_name='event',
            constraint=models.UniqueConstraint(fields=('shop', 'event_id'), name='event_unique_per_shop'),
        ),
        migrations.AlterField(
            model_name='event',
            name='event_id',
            field=models.CharField(max_length=100, verbose_name="shop's event id"),
        ),
    ]
