import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from members.models import Member, User
from members.services import member_create
from shop.models import ApiKey, Shop, ShopifyShop
from shop.selectors import shop_default
from shop.services import api_key_create

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"shopper{n}@example.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified_email(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.save()
            EmailAddress.objects.create(
                user=self, email=self.email, primary=True, verified=extracted is not False
            )


class MemberFactory(factory.django.DjangoModelFactory):
    """A member made the way the product makes one: through the service."""

    class Meta:
        model = Member

    user = factory.SubFactory(UserFactory)

    @classmethod
    def _create(cls, model_class: type[Member], *args: object, **kwargs: object) -> Member:
        user = kwargs.pop("user")
        kwargs.setdefault("email_verified_at", timezone.now())
        member = member_create(user=user)  # type: ignore[arg-type]
        if kwargs:
            Member.objects.filter(pk=member.pk).update(**kwargs)
            member.refresh_from_db()
        return member


def ledger_is_clean() -> bool:
    """Every ledger invariant holds (what `manage.py ledger_audit` proves)."""
    from points.audit import CHECKS

    return all(not check() for check in CHECKS.values())


class ApiKeyFactory(factory.django.DjangoModelFactory):
    """An API key made by the service; its plaintext is on `.plaintext` (tests only)."""

    class Meta:
        model = ApiKey

    name = factory.Sequence(lambda n: f"shop {n}")
    shop = factory.LazyFunction(shop_default)

    @classmethod
    def _create(cls, model_class: type[ApiKey], *args: object, **kwargs: object) -> ApiKey:
        api_key, plaintext = api_key_create(name=str(kwargs.pop("name")), shop=kwargs.pop("shop"))
        if kwargs:
            ApiKey.objects.filter(pk=api_key.pk).update(**kwargs)
            api_key.refresh_from_db()
        api_key.plaintext = plaintext  # type: ignore[attr-defined]
        return api_key


class ShopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shop

    code = factory.Sequence(lambda n: f"shop-{n}")
    name = factory.Sequence(lambda n: f"Shop {n}")


class ShopifyShopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ShopifyShop

    shop = factory.LazyFunction(shop_default)
    domain = factory.Sequence(lambda n: f"shop-{n}.myshopify.com")
    name = factory.SelfAttribute("domain")
    webhook_secret = factory.Sequence(lambda n: f"shpss_test_secret_{n}")


class OrderFactory(factory.django.DjangoModelFactory):
    """An order row written directly: no points, no tier or plan effect at order
    time. For the nightly jobs, which read the orders as they are stored."""

    class Meta:
        model = "shop.Order"

    shop = factory.LazyFunction(shop_default)
    order_id = factory.Sequence(lambda n: f"direct-{n}")
    member = factory.SubFactory(MemberFactory)
    placed_at = factory.LazyFunction(timezone.now)
    currency = "CNY"
    total_minor = 10_000
    fingerprint = "x"


def order_place(member, total_minor, *, placed_at=None, lines=None, order_id=None):
    """An order reported the way the shop reports one, through
    `campaigns.services.order_record` (points, tier, paid plans), placed at
    `placed_at` (default: now). `lines` are (sku, quantity, amount_minor) tuples;
    by default one line of the whole amount. Returns (order, the service's result)."""
    import uuid

    from campaigns.services import LineInput, OrderInput, order_record
    from shop.models import Order

    order_id = order_id or f"placed-{uuid.uuid4().hex[:12]}"
    if lines is None:
        lines = [("GOODS-1", 1, total_minor)]
    data = OrderInput(
        order_id=order_id,
        member_number=member.number,
        placed_at=placed_at or timezone.now(),
        currency="CNY",
        total_minor=total_minor,
        lines=[
            LineInput(sku=sku, category="", quantity=quantity, amount_minor=amount)
            for sku, quantity, amount in lines
        ],
    )
    result, _created = order_record(shop=shop_default(), data=data, fingerprint=f"test:{order_id}")
    return Order.objects.get(order_id=order_id), result
