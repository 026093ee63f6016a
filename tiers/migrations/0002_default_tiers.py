"""The default tiers of the programme (editable in the admin afterwards): net
qualifying spend over the window of 0 / 1,000 / 5,000 / 20,000 in the programme's
currency, earning 1.0 / 1.2 / 1.5 / 2.0 times the base points."""

from decimal import Decimal

from django.conf import settings
from django.db import migrations

from members.money import currency_exponent

DEFAULT_TIERS = [
    # code, name, rank, threshold in whole currency units, multiplier, benefits
    ("member", "Member", 0, 0, "1.0", {}),
    ("silver", "Silver", 1, 1_000, "1.2", {"discount_percent": 2, "birthday_gift": True}),
    (
        "gold",
        "Gold",
        2,
        5_000,
        "1.5",
        {"discount_percent": 5, "free_shipping": True, "birthday_gift": True},
    ),
    (
        "diamond",
        "Diamond",
        3,
        20_000,
        "2.0",
        {
            "discount_percent": 10,
            "free_shipping": True,
            "priority_support": True,
            "birthday_gift": True,
            "early_access": True,
        },
    ),
]


def create(apps, schema_editor):
    Tier = apps.get_model("tiers", "Tier")
    unit = 10 ** currency_exponent(settings.PROGRAM_CURRENCY)
    for code, name, rank, threshold, multiplier, benefits in DEFAULT_TIERS:
        Tier.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "rank": rank,
                "threshold_minor": threshold * unit,
                "multiplier": Decimal(multiplier),
                **benefits,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("tiers", "0001_initial")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
