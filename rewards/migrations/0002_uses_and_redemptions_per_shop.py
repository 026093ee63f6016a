"""Coupon uses and reward redemptions belong to the shop that made them (the
existing ones to the default shop): an order id or idempotency key is unique per
shop, so two shops' orders named alike are two orders."""

import django.db.models.deletion
from django.db import migrations, models

DEFAULT_SHOP_PK = 1  # made by shop 0002, the first row of its new table


class Migration(migrations.Migration):

    dependencies = [
        ('rewards', '0001_initial'),
        ('shop', '0002_shops'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='couponuse',
            name='couponuse_unique_key',
        ),
        migrations.RemoveConstraint(
            model_name='couponuse',
            name='couponuse_once_per_order',
        ),
        migrations.RemoveIndex(
            model_name='couponuse',
            name='couponuse_order',
        ),
        migrations.RemoveConstraint(
            model_name='rewardredemption',
            name='rewardredemption_unique_key',
        ),
        migrations.AddField(
            model_name='couponuse',
            name='shop',
            field=models.ForeignKey(db_index=False, default=DEFAULT_SHOP_PK, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='shop.shop'),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='rewardredemption',
            name='shop',
            field=models.ForeignKey(db_index=False, default=DEFAULT_SHOP_PK, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='shop.shop'),
            preserve_default=False,
        ),
        migrations.AddConstraint(
            model_name='couponuse',
            constraint=models.UniqueConstraint(fields=('coupon', 'shop', 'idempotency_key'), name='couponuse_unique_key_per_shop'),
        ),
        migrations.AddConstraint(
            model_name='couponuse',
            constraint=models.UniqueConstraint(condition=models.Q(('released_at__isnull', True)), fields=('coupon', 'shop', 'order_id'), name='couponuse_once_per_shop_order'),
        ),
        migrations.AddIndex(
            model_name='couponuse',
            index=models.Index(fields=['shop', 'order_id'], name='couponuse_shop_order'),
        ),
        migrations.AddConstraint(
            model_name='rewardredemption',
            constraint=models.UniqueConstraint(fields=('shop', 'member', 'idempotency_key'), name='rewardredemption_unique_key_per_shop'),
        ),
    ]
