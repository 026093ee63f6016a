"""Writes of the shop's side: API keys, Shopify stores, webhook deliveries.
Functions are `<noun>_<verb>` with keyword-only arguments."""

import base64
import datetime as dt
import hashlib
import hmac
import secrets
import string
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .errors import DomainError
from .models import ApiKey, Product, ProductPrice, Shop, ShopifyShop, WebhookDelivery
from .selectors import shop_default
from .shopify import ShopifyProduct

API_KEY_PREFIX_ALPHABET = string.ascii_lowercase + string.digits
API_KEY_MAX_LENGTH = 200
# last_used_at is for staff ("is this key still in use?"): a write per request would
# cost more than it tells, so it is refreshed at most this often.
API_KEY_USE_RESOLUTION = dt.timedelta(minutes=1)
# Each process keeps the keys it authenticated, by hash, for this long: every API
# call is authenticated, and a key is revoked a few times a year. A revocation is
# felt at once in the process that made it and within this many seconds in the
# others.
API_KEY_CACHE_SECONDS = 5.0
SHOPIFY_ENV_SHOP_DOMAIN = "default"


def _api_key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_key_create(*, name: str, shop: Shop) -> tuple[ApiKey, str]:
    """A new API key of `shop` and its plaintext, `lk_<prefix>_<secret>`. The
    plaintext is not stored (only its SHA-256), so the caller shows it once."""
    prefix = "".join(secrets.choice(API_KEY_PREFIX_ALPHABET) for _ in range(8))
    plaintext = f"lk_{prefix}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey.objects.create(
        shop=shop, name=name, prefix=prefix, key_hash=_api_key_hash(plaintext)
    )
    return api_key, plaintext


def api_key_revoke(*, api_key: ApiKey) -> None:
    ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    api_key.refresh_from_db(fields=["revoked_at"])
    api_keys_forget()


# key hash -> (when it was read, monotonic; the active key)
_active_keys: dict[str, tuple[float, ApiKey]] = {}


def api_keys_forget() -> None:
    """Drop the keys this process keeps (one was revoked)."""
    _active_keys.clear()


def api_key_authenticate(*, key: str) -> ApiKey | None:
    """The active key whose plaintext is `key`, or None. The lookup is by the key's
    hash, so a timing difference says nothing about the key; a key found is kept
    for API_KEY_CACHE_SECONDS."""
    if not key or len(key) > API_KEY_MAX_LENGTH:
        return None
    key_hash = _api_key_hash(key)
    cached = _active_keys.get(key_hash)
    if cached is not None and time.monotonic() - cached[0] < API_KEY_CACHE_SECONDS:
        api_key = cached[1]
    else:
        _active_keys.pop(key_hash, None)
        found = (
            ApiKey.objects.select_related("shop")
            .filter(key_hash=key_hash, revoked_at__isnull=True)
            .first()
        )
        if found is None:
            return None
        api_key = found
        _active_keys[key_hash] = (time.monotonic(), api_key)
    now = timezone.now()
    stale = now - API_KEY_USE_RESOLUTION
    if api_key.last_used_at is None or api_key.last_used_at < stale:
        ApiKey.objects.filter(pk=api_key.pk).exclude(last_used_at__gte=stale).update(
            last_used_at=now
        )
        api_key.last_used_at = now
    return api_key


def shopify_signature(*, body: bytes, secret: str) -> str:
    """What Shopify puts in X-Shopify-Hmac-Sha256: base64 of HMAC-SHA256(body)."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _shopify_signature_valid(*, body: bytes, signature: str, secret: str) -> bool:
    expected = shopify_signature(body=body, secret=secret)
    return hmac.compare_digest(expected.encode(), signature.encode())


def shopify_shop_authenticate(*, body: bytes, signature: str, domain: str) -> ShopifyShop | None:
    """The active Shopify store whose secret signed `body`, or None.

    Stores configured in the admin are tried first (only the one named by `domain`,
    when the request names one), then the SHOPIFY_WEBHOOK_SECRET setting; a request
    signed with the setting's secret is recorded under a store row for its domain,
    created on first use for the default shop."""
    if not signature:
        return None
    stores = (
        ShopifyShop.objects.select_related("shop").filter(is_active=True).exclude(webhook_secret="")
    )
    if domain:
        stores = stores.filter(domain=domain)
    for store in stores:
        if _shopify_signature_valid(body=body, signature=signature, secret=store.webhook_secret):
            return store
    env_secret: str = settings.SHOPIFY_WEBHOOK_SECRET
    if not env_secret or not _shopify_signature_valid(
        body=body, signature=signature, secret=env_secret
    ):
        return None
    domain = domain or SHOPIFY_ENV_SHOP_DOMAIN
    store, _created = ShopifyShop.objects.select_related("shop").get_or_create(
        domain=domain, defaults={"name": domain, "shop": shop_default()}
    )
    if not store.is_active or store.webhook_secret:
        return None
    return store


def webhook_delivery_record(*, delivery: WebhookDelivery) -> bool:
    """Save `delivery` (a new one); False when its event had already arrived (a
    repeat). Call it inside the transaction that applies the event, so that a
    failure undoes the record too and the sender's retry is taken in again."""
    try:
        with transaction.atomic():
            delivery.save(force_insert=True)
    except IntegrityError:
        return False
    return True


class UnsupportedCurrency(DomainError):
    code = "unsupported_currency"


CONSUMABLE_TAG = "consumable"


@dataclass(frozen=True)
class ProductInput:
    sku: str
    name: str
    price_minor: int
    currency: str
    category: str = ""
    tags: list[str] = field(default_factory=list)
    active: bool = True
    shopify_product_id: str = ""


def product_upsert(*, data: ProductInput, at: dt.datetime | None = None) -> tuple[Product, bool]:
    """Create or update the product `data.sku` as the shop describes it; True when
    it is new. A new price (and the first one) is kept in its history from `at`
    (default now). Prices are in the programme's currency: price protection and
    the recommendations compare them with orders."""
    if data.currency != settings.PROGRAM_CURRENCY:
        raise UnsupportedCurrency(
            f"The programme runs in {settings.PROGRAM_CURRENCY}; this price is in {data.currency}.",
            fields={"currency": f"Must be {settings.PROGRAM_CURRENCY}."},
        )
    at = at or timezone.now()
    tags = sorted({tag.strip().lower() for tag in data.tags if tag.strip()})
    values = {
        "name": data.name,
        "category": data.category,
        "price_minor": data.price_minor,
        "currency": data.currency,
        "tags": tags,
        "active": data.active,
        "consumable": CONSUMABLE_TAG in tags,
        "updated_at": at,
    }
    if data.shopify_product_id:
        values["shopify_product_id"] = data.shopify_product_id
    with transaction.atomic():
        product = Product.objects.select_for_update().filter(sku=data.sku).first()
        if product is not None and product.updated_at > at:
            return product, False  # an older description arriving late
        created = product is None
        if product is None:
            try:
                with transaction.atomic():
                    product = Product.objects.create(sku=data.sku, created_at=at, **values)
            except IntegrityError:  # created at the same moment by another request
                product = Product.objects.select_for_update().get(sku=data.sku)
                created = False
        if created:
            price_changed = True
        else:
            price_changed = (product.price_minor, product.currency) != (
                data.price_minor,
                data.currency,
            )
            for name, value in values.items():
                setattr(product, name, value)
            product.save(update_fields=list(values))
        if price_changed:
            ProductPrice.objects.create(
                product=product, price_minor=data.price_minor, currency=data.currency, changed_at=at
            )
    return product, created


def products_from_shopify(*, store: ShopifyShop, payload: ShopifyProduct) -> str:
    """products/create and products/update: each variant with a SKU is a product of
    the catalogue ("Title - Variant" unless Shopify's "Default Title"); a draft or
    archived product is inactive. An update older than what is stored changes
    nothing."""
    if not payload.variants:
        return "no_sku"
    for variant in payload.variants:
        name = payload.title
        if variant.title and variant.title != "Default Title":
            name = f"{payload.title} - {variant.title}"
        product_upsert(
            data=ProductInput(
                sku=variant.sku,
                name=(name or variant.sku)[:200],
                category=payload.product_type,
                price_minor=variant.price_minor,
                currency=settings.PROGRAM_CURRENCY,
                tags=list(payload.tags),
                active=payload.active,
                shopify_product_id=payload.id,
            ),
            at=payload.updated_at,
        )
    return ""
