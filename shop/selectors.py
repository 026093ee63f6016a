"""Reads of the shop's side. Functions are `<noun>_<verb>` with keyword-only arguments."""

from .models import DEFAULT_SHOP_CODE, Shop


def shop_get(*, code: str) -> Shop | None:
    return Shop.objects.filter(code=code).first()


def shop_default() -> Shop:
    """The default shop, made by a migration: what acts for the programme where no
    shop is named (the SHOPIFY_WEBHOOK_SECRET store, the demo data)."""
    return Shop.objects.get(code=DEFAULT_SHOP_CODE)
