"""The shop's side: its API keys and Shopify stores, and the orders and refunds
they report, kept as facts (what the shop said). What an order earns is decided
above, in campaigns."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.models import Member

DEFAULT_SHOP_CODE = "default"


class Shop(models.Model):
    """A shop (a site, a store) that reports to the programme. Its API keys and
    Shopify stores act for it; the orders, refunds, events and redemptions it
    reports are its own (their ids are unique per shop, and no other shop's key
    sees them). Members, points and tiers are programme-wide."""

    code = models.SlugField(
        max_length=30, unique=True, help_text=_("A short name for commands, e.g. my-shop.")
    )
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self) -> str:
        return self.name

    def ledger_ref(self, ref: str) -> str:
        """`ref` (an order, refund, event or redemption id of this shop) as the
        ledger names it: as it is for the default shop, as it always was, and
        prefixed with the shop's code for every other shop."""
        return ref if self.code == DEFAULT_SHOP_CODE else f"{self.code}:{ref}"


class ApiKey(models.Model):
    """A shop's key to the API. Only the SHA-256 of the key is stored; the key itself
    is shown once, when it is created. `prefix` identifies it to staff."""

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=8, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("API key")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ShopifyShop(models.Model):
    """A connected Shopify store whose webhooks are accepted, for its shop."""

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="shopify_stores")
    name = models.CharField(max_length=100)
    domain = models.CharField(
        max_length=255, unique=True, help_text=_("The store's domain, e.g. my-shop.myshopify.com.")
    )
    webhook_secret = models.CharField(
        max_length=255,
        blank=True,
        help_text=_(
            "The key Shopify signs webhooks with (the app's client secret). Empty: the "
            "SHOPIFY_WEBHOOK_SECRET setting is used."
        ),
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("Shopify shop")

    def __str__(self) -> str:
        return self.domain


class WebhookDelivery(models.Model):
    """A webhook event taken in, and what became of it. Shopify may deliver one
    event several times; the unique (store, event_id) makes the repeats do nothing."""

    class Status(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted")
        IGNORED = "ignored", _("Ignored")
        REFUSED = "refused", _("Refused")

    store = models.ForeignKey(ShopifyShop, on_delete=models.PROTECT)
    topic = models.CharField(max_length=50)
    event_id = models.CharField(max_length=100)
    webhook_id = models.CharField(max_length=100, blank=True)
    order_id = models.CharField(
        _("Shopify's order id"), max_length=100, blank=True, help_text=_("The order it is about.")
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACCEPTED)
    reason = models.CharField(
        max_length=50, blank=True, help_text=_("Why it was ignored or refused (a code).")
    )
    message = models.CharField(max_length=500, blank=True)
    received_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(fields=["store", "event_id"], name="webhook_delivery_unique")
        ]
        indexes = [models.Index(fields=["order_id"], name="webhook_delivery_order")]

    def __str__(self) -> str:
        return f"{self.topic} {self.event_id}"


class Order(models.Model):
    """A paid order as the shop reported it: the fact its points come from. Amounts
    are in minor units of `currency`; `total_minor` is the net the points are based
    on (lines after discounts, no shipping)."""

    # No index of its own: the unique (shop, order_id) serves every lookup by shop.
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, db_index=False, related_name="+")
    order_id = models.CharField(_("shop's order id"), max_length=100)
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="orders")
    placed_at = models.DateTimeField()
    currency = models.CharField(max_length=3)
    total_minor = models.BigIntegerField()
    shipping_minor = models.BigIntegerField(default=0)
    refunded_minor = models.BigIntegerField(
        default=0,
        editable=False,
        help_text=_(
            "The sum of the order's refunds, kept with each refund under the order's row "
            "lock: qualifying spend is total less refunded."
        ),
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    api_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.PROTECT)
    shopify_shop = models.ForeignKey(ShopifyShop, null=True, blank=True, on_delete=models.PROTECT)
    fingerprint = models.CharField(
        max_length=64, help_text=_("SHA-256 of the canonical request: a retry or a clash?")
    )

    class Meta:
        indexes = [
            # Covering on PostgreSQL: a member's qualifying spend (the nightly tier
            # evaluation, the member lookup) is read from the index alone.
            models.Index(
                fields=["member", "placed_at"],
                include=["total_minor", "refunded_minor"],
                name="order_member_placed",
            )
        ]
        constraints = [
            models.UniqueConstraint(fields=["shop", "order_id"], name="order_unique_per_shop"),
            models.CheckConstraint(
                condition=models.Q(total_minor__gte=0), name="order_total_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(shipping_minor__gte=0), name="order_shipping_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(refunded_minor__gte=0)
                & models.Q(refunded_minor__lte=models.F("total_minor")),
                name="order_refunded_within_total",
            ),
        ]

    def __str__(self) -> str:
        return self.order_id


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    sku = models.CharField(max_length=100, blank=True)
    category = models.CharField(max_length=100, blank=True)
    quantity = models.PositiveIntegerField()
    amount_minor = models.BigIntegerField(help_text=_("The line's amount after discounts."))

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_minor__gte=0), name="order_line_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0), name="order_line_quantity_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"


class Refund(models.Model):
    """Money the shop gave back on an order."""

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, db_index=False, related_name="+")
    refund_id = models.CharField(_("shop's refund id"), max_length=100)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    amount_minor = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    api_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.PROTECT)
    shopify_shop = models.ForeignKey(ShopifyShop, null=True, blank=True, on_delete=models.PROTECT)
    fingerprint = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "refund_id"], name="refund_unique_per_shop"),
            models.CheckConstraint(
                condition=models.Q(amount_minor__gte=0), name="refund_amount_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.refund_id


class RefundLine(models.Model):
    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="lines")
    sku = models.CharField(max_length=100, blank=True)
    quantity = models.PositiveIntegerField()
    amount_minor = models.BigIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_minor__gte=0), name="refund_line_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0), name="refund_line_quantity_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"


class Product(models.Model):
    """A product of the shop's catalogue, by SKU (the SKU its order lines name), as
    the shop last reported it (`PUT /api/v1/products/{sku}`, Shopify's products
    webhooks). Programme-wide, like members: the recommendations, the tags and price
    protection read it. Every change of price is kept in `ProductPrice`."""

    sku = models.CharField(_("SKU"), max_length=100, unique=True)
    name = models.CharField(_("name"), max_length=200)
    category = models.CharField(_("category"), max_length=100, blank=True)
    price_minor = models.BigIntegerField(_("price (minor units)"))
    currency = models.CharField(_("currency"), max_length=3)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    active = models.BooleanField(_("active"), default=True)
    consumable = models.BooleanField(
        _("consumable"),
        default=False,
        help_text=_(
            "Bought again and again (tea, paper): recommended even when the member "
            "bought it in the last 30 days. Set by the tag `consumable`."
        ),
    )
    shopify_product_id = models.CharField(max_length=100, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("product")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(price_minor__gte=0), name="product_price_not_negative"
            )
        ]
        indexes = [models.Index(fields=["category"], name="product_category")]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class ProductPrice(models.Model):
    """A product's price from `changed_at` until its next row: the history price
    protection compares orders with."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="prices")
    price_minor = models.BigIntegerField(_("price (minor units)"))
    currency = models.CharField(_("currency"), max_length=3)
    changed_at = models.DateTimeField(_("from"), default=timezone.now)

    class Meta:
        verbose_name = _("product price")
        indexes = [
            models.Index(fields=["product", "-changed_at"], name="product_price_history"),
            models.Index(fields=["changed_at"], name="product_price_changed"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}: {self.price_minor} {self.currency}"
