"""The API keys, Shopify shops, webhook deliveries, orders and refunds moved to the
shop app (shop 0001 took over their tables): they leave this app's state only."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('campaigns', '0002_shop_models_moved'),
        ('members', '0004_order_spend_index'),
        ('points', '0004_shop_models_moved'),
        ('shop', '0001_initial'),
        ('tiers', '0003_shop_models_moved'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name=name)
                for name in [
                    'RefundLine',
                    'Refund',
                    'OrderLine',
                    'Order',
                    'WebhookDelivery',
                    'ShopifyShop',
                    'ApiKey',
                ]
            ],
        ),
    ]
