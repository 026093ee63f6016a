"""Shops: every API key, Shopify store, order and refund belongs to one. A default
shop is made here and owns everything that existed; ids become unique per shop.
The new columns take the default with no rewrite of the tables, and orders and
refunds get no index on the shop alone: the unique (shop, id) serves."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

DEFAULT_SHOP_PK = 1


def default_shop_create(apps, schema_editor):
    Shop = apps.get_model("shop", "Shop")
    shop = Shop.objects.create(code="default", name="Default shop")
    # The first row of a new table: the columns added below default to it.
    assert shop.pk == DEFAULT_SHOP_PK, shop.pk


class Migration(migrations.Migration):

    dependencies = [
        ('members', '0005_shop_models_moved'),
        ('shop', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='Shop',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.SlugField(help_text='A short name for commands, e.g. my-shop.', max_length=30, unique=True)),
                ('name', models.CharField(max_length=100)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
            ],
        ),
        migrations.RunPython(default_shop_create, migrations.RunPython.noop),
        migrations.AddField(
            model_name='apikey',
            name='shop',
            field=models.ForeignKey(default=DEFAULT_SHOP_PK, on_delete=django.db.models.deletion.PROTECT, related_name='api_keys', to='shop.shop'),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='order',
            name='shop',
            field=models.ForeignKey(db_index=False, default=DEFAULT_SHOP_PK, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='shop.shop'),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='refund',
            name='shop',
            field=models.ForeignKey(db_index=False, default=DEFAULT_SHOP_PK, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='shop.shop'),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='shopifyshop',
            name='shop',
            field=models.ForeignKey(default=DEFAULT_SHOP_PK, on_delete=django.db.models.deletion.PROTECT, related_name='shopify_stores', to='shop.shop'),
            preserve_default=False,
        ),
        migrations.RemoveConstraint(
            model_name='webhookdelivery',
            name='webhook_delivery_unique',
        ),
        migrations.RenameField(
            model_name='webhookdelivery',
            old_name='shop',
            new_name='store',
        ),
        migrations.AddConstraint(
            model_name='webhookdelivery',
            constraint=models.UniqueConstraint(fields=('store', 'event_id'), name='webhook_delivery_unique'),
        ),
        migrations.AddConstraint(
            model_name='order',
            constraint=models.UniqueConstraint(fields=('shop', 'order_id'), name='order_unique_per_shop'),
        ),
        migrations.AddConstraint(
            model_name='refund',
            constraint=models.UniqueConstraint(fields=('shop', 'refund_id'), name='refund_unique_per_shop'),
        ),
        migrations.AlterField(
            model_name='order',
            name='order_id',
            field=models.CharField(max_length=100, verbose_name="shop's order id"),
        ),
        migrations.AlterField(
            model_name='refund',
            name='refund_id',
            field=models.CharField(max_length=100, verbose_name="shop's refund id"),
        ),
    ]
