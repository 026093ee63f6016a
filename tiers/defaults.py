"""The programme's default tiers: net qualifying spend over the window of 0 /
1,000 / 5,000 / 20,000 in the programme's currency, earning 1.0 / 1.2 / 1.5 / 2.0
times the base points. Created by a data migration, editable in the admin."""

from decimal import Decimal

from django.conf import settings
from django.db.models import Model

from shop.money import currency_exponent

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


def default_tiers_create(tier_model: type[Model]) -> None:
    """Create the default tiers that do not exist yet (by code). `tier_model` is
    the Tier model, or its historical version in a migration."""
    unit = 10 ** currency_exponent(settings.PROGRAM_CURRENCY)
    for code, name, rank, threshold, multiplier, benefits in DEFAULT_TIERS:
        tier_model._default_manager.get_or_create(
            code=code,
            defaults={
                "name": name,
                "rank": rank,
                "threshold_minor": threshold * unit,
                "multiplier": Decimal(multiplier),
                **benefits,
            },
        )
    default_tier_names_fill(tier_model)


# The default tiers' names in Simplified and Traditional Chinese.
DEFAULT_TIER_NAMES = {
    "member": ("会员", "會員"),
    "silver": ("银卡会员", "銀卡會員"),
    "gold": ("金卡会员", "金卡會員"),
    "diamond": ("钻石会员", "鑽石會員"),
}


def default_tier_names_fill(tier_model: type[Model]) -> None:
    """Give the default tiers their Chinese names where staff have written none
    (a model from before the names existed has nowhere to put them)."""
    fields = {field.name for field in tier_model._meta.get_fields()}
    if "name_zh_hans" not in fields:
        return
    manager = tier_model._default_manager
    for code, (hans, hant) in DEFAULT_TIER_NAMES.items():
        manager.filter(code=code, name_zh_hans="").update(name_zh_hans=hans)
        manager.filter(code=code, name_zh_hant="").update(name_zh_hant=hant)
