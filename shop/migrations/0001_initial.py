"""The shop's models move here from members, keeping their rows: the state is
created over the existing tables, which are then renamed to this app's names. The
content types move too, so permissions and the admin's history follow."""


import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


MODELS = ["apikey", "shopifyshop", "webhookdelivery", "order", "orderline", "refund", "refundline"]


def _relabel(apps, old, new):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label=old, model__in=MODELS).update(app_label=new)


def move_content_types(apps, schema_editor):
    _relabel(apps, "members", "shop")


def move_content_types_back(apps, schema_editor):
    _relabel(apps, "shop", "members")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        # Every migration that creates a reference to the old tables runs first.
        ('campaigns', '0001_initial'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('members', '0004_order_spend_index'),
        ('points', '0003_redemption'),
        ('tiers', '0002_default_tiers'),
    ]

    state_operations = [
        migrations.CreateModel(
            name='ApiKey',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100)),
                ('prefix', models.CharField(editable=False, max_length=8)),
                ('key_hash', models.CharField(editable=False, max_length=64, unique=True)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                ('last_used_at', models.DateTimeField(blank=True, editable=False, null=True)),
                ('revoked_at', models.DateTimeField(blank=True, editable=False, null=True)),
            ],
            options={
                'db_table': 'members_apikey',
                'verbose_name': 'API key',
            },
        ),
        migrations.CreateModel(
            name='ShopifyShop',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100)),
                ('domain', models.CharField(help_text="The store's domain, e.g. my-shop.myshopify.com.", max_length=255, unique=True)),
                ('webhook_secret', models.CharField(blank=True, help_text="The key Shopify signs webhooks with (the app's client secret). Empty: the SHOPIFY_WEBHOOK_SECRET setting is used.", max_length=255)),
                ('is_active', models.BooleanField(default=True)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
            ],
            options={
                'db_table': 'members_shopifyshop',
                'verbose_name': 'Shopify shop',
            },
        ),
        migrations.CreateModel(
            name='Order',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('order_id', models.CharField(max_length=100, unique=True, verbose_name="shop's order id")),
                ('placed_at', models.DateTimeField()),
                ('currency', models.CharField(max_length=3)),
                ('total_minor', models.BigIntegerField()),
                ('shipping_minor', models.BigIntegerField(default=0)),
                ('refunded_minor', models.BigIntegerField(default=0, editable=False, help_text="The sum of the order's refunds, kept with each refund under the order's row lock: qualifying spend is total less refunded.")),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                ('fingerprint', models.CharField(help_text='SHA-256 of the canonical request: a retry or a clash?', max_length=64)),
                ('api_key', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, to='shop.apikey')),
                ('member', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='orders', to='members.member')),
                ('shopify_shop', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, to='shop.shopifyshop')),
            ],
            options={
                'db_table': 'members_order',
            },
        ),
        migrations.CreateModel(
            name='Refund',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('refund_id', models.CharField(max_length=100, unique=True, verbose_name="shop's refund id")),
                ('amount_minor', models.BigIntegerField()),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                ('fingerprint', models.CharField(max_length=64)),
                ('api_key', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, to='shop.apikey')),
                ('order', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='refunds', to='shop.order')),
                ('shopify_shop', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, to='shop.shopifyshop')),
            ],
            options={
                'db_table': 'members_refund',
            },
        ),
        migrations.CreateModel(
            name='WebhookDelivery',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('topic', models.CharField(max_length=50)),
                ('event_id', models.CharField(max_length=100)),
                ('webhook_id', models.CharField(blank=True, max_length=100)),
                ('received_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                ('shop', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, to='shop.shopifyshop')),
            ],
            options={
                'db_table': 'members_webhookdelivery',
                'verbose_name_plural': 'webhook deliveries',
            },
        ),
        migrations.CreateModel(
            name='OrderLine',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('sku', models.CharField(blank=True, max_length=100)),
                ('category', models.CharField(blank=True, max_length=100)),
                ('quantity', models.PositiveIntegerField()),
                ('amount_minor', models.BigIntegerField(help_text="The line's amount after discounts.")),
                ('order', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='lines', to='shop.order')),
            ],
            options={
                'db_table': 'members_orderline',
                'constraints': [models.CheckConstraint(condition=models.Q(('amount_minor__gte', 0)), name='order_line_amount_not_negative'), models.CheckConstraint(condition=models.Q(('quantity__gt', 0)), name='order_line_quantity_positive')],
            },
        ),
        migrations.CreateModel(
            name='RefundLine',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('sku', models.CharField(blank=True, max_length=100)),
                ('quantity', models.PositiveIntegerField()),
                ('amount_minor', models.BigIntegerField()),
                ('refund', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='lines', to='shop.refund')),
            ],
            options={
                'db_table': 'members_refundline',
                'constraints': [models.CheckConstraint(condition=models.Q(('amount_minor__gte', 0)), name='refund_line_amount_not_negative'), models.CheckConstraint(condition=models.Q(('quantity__gt', 0)), name='refund_line_quantity_positive')],
            },
        ),
        migrations.AddConstraint(
            model_name='refund',
            constraint=models.CheckConstraint(condition=models.Q(('amount_minor__gte', 0)), name='refund_amount_not_negative'),
        ),
        migrations.AddIndex(
            model_name='order',
            index=models.Index(fields=['member', 'placed_at'], include=('total_minor', 'refunded_minor'), name='order_member_placed'),
        ),
        migrations.AddConstraint(
            model_name='order',
            constraint=models.CheckConstraint(condition=models.Q(('total_minor__gte', 0)), name='order_total_not_negative'),
        ),
        migrations.AddConstraint(
            model_name='order',
            constraint=models.CheckConstraint(condition=models.Q(('shipping_minor__gte', 0)), name='order_shipping_not_negative'),
        ),
        migrations.AddConstraint(
            model_name='order',
            constraint=models.CheckConstraint(condition=models.Q(('refunded_minor__gte', 0), ('refunded_minor__lte', models.F('total_minor'))), name='order_refunded_within_total'),
        ),
        migrations.AddConstraint(
            model_name='webhookdelivery',
            constraint=models.UniqueConstraint(fields=('shop', 'event_id'), name='webhook_delivery_unique'),
        ),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=state_operations),
        migrations.RunPython(move_content_types, move_content_types_back, elidable=True),
    ] + [
        migrations.AlterModelTable(name=name, table=None)
        for name in MODELS
    ]
