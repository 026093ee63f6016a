"""Every redemption belongs to the shop that made it (the existing ones to the
default shop); an idempotency key is unique per shop and member. Ledger sources
of other shops carry the shop's code, hence the longer source_ref."""

import django.db.models.deletion
from django.db import migrations, models

DEFAULT_SHOP_PK = 1  # made by shop 0002, the first row of its new table


class Migration(migrations.Migration):

    dependencies = [
        ('members', '0005_shop_models_moved'),
        ('points', '0004_shop_models_moved'),
        ('shop', '0002_shops'),
    ]

    operations = [
        migrations.AddField(
            model_name='redemption',
            name='shop',
            field=models.ForeignKey(db_index=False, default=DEFAULT_SHOP_PK, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='shop.shop'),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name='entry',
            name='source_ref',
            field=models.CharField(blank=True, help_text="the source's id; a shop's ids with its code", max_length=150),
        ),
        migrations.AddConstraint(
            model_name='redemption',
            constraint=models.UniqueConstraint(fields=('shop', 'member', 'idempotency_key'), name='redemption_unique_key_per_shop_member'),
        ),
        migrations.RemoveConstraint(
            model_name='redemption',
            name='redemption_unique_key_per_member',
        ),
    ]
