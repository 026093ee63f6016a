"""Writes of the shop's side: API keys, Shopify stores, webhook deliveries.
Functions are `<noun>_<verb>` with keyword-only arguments."""

import base64
import datetime as dt
import hashlib
import hmac
import secrets
import string
import time

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import ApiKey, Shop, ShopifyShop, WebhookDelivery
from .selectors import shop_default

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
