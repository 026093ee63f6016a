"""Demo data for a first run: a staff superuser, a paid plan on sale, a small
rewards catalogue, the demo campaigns, and a demo member whose orders (reported
through the same service as the shop's API) made them Silver, with a believable
points history. Safe to run again: what exists is
kept, what is missing is created (every write carries a fixed id or key)."""

import datetime as dt
from decimal import Decimal

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from campaigns.catalogue import campaign_save
from campaigns.defaults import DEMO_CAMPAIGNS
from campaigns.documents import document_parse
from campaigns.models import Campaign
from campaigns.services import LineInput, OrderInput, order_record
from members.models import Member, User
from members.services import member_create, member_mark_verified
from points.models import Entry
from points.services import Source, points_redeem
from rewards.documents import RewardDocument
from rewards.models import Reward
from rewards.services.rewards import rewards_import
from shop.models import Order
from shop.selectors import shop_default
from tiers.models import PaidPlan

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin-demo-2026"  # noqa: S105 - demo data, printed for the user
MEMBER_EMAIL = "demo@example.com"
MEMBER_PASSWORD = "member-demo-2026"  # noqa: S105 - demo data, printed for the user

# (order id, days ago, net amount in minor units): the demo member's orders. The
# second lifts them to Silver, so the later ones earn at its multiplier.
DEMO_ORDERS = [
    ("D-1001", 160, 42_000),
    ("D-1002", 95, 128_000),
    ("D-1003", 40, 65_500),
    ("D-1004", 3, 31_000),
]
DEMO_PLAN = {
    "code": "plus",
    "name": "Plus",
    "sku": "PLUS-1Y",
    "price_minor": 19_900,
    "duration_days": 365,
    "extra_multiplier": Decimal("0.5"),
    "free_shipping": True,
    "early_access": True,
}

# The catalogue a first run shows: a coupon, free shipping and a gift for Silver.
DEMO_REWARDS = [
    {"code": "TEN-OFF", "name": "10 off an order of 50", "name_zh_hans": "满50减10",
     "name_zh_hant": "滿50減10", "kind": "coupon", "points": 1000, "per_member_limit": 2,
     "coupon": {"kind": "amount", "value": "10.00", "min_spend": "50.00", "valid_days": 30}},
    {"code": "FREE-SHIP", "name": "Free shipping", "name_zh_hans": "免运费",
     "name_zh_hant": "免運費", "kind": "coupon", "points": 300,
     "coupon": {"kind": "free_shipping", "valid_days": 30}},
    {"code": "TEA-SAMPLER", "name": "Tea sampler gift box", "name_zh_hans": "试饮礼盒",
     "name_zh_hant": "試飲禮盒", "kind": "gift", "points": 2500, "stock": 50,
     "min_tier": "silver", "per_member_limit": 1},
]  # fmt: skip


class Command(BaseCommand):
    help = "Create demo data (idempotent): a staff superuser and a demo member with points."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DEBUG off (the demo logins have published passwords).",
        )

    @transaction.atomic
    def handle(self, *args: object, **options: object) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "DEBUG is off: this looks like production, and the demo's staff login has a "
                "published password. Use --force to create the demo data anyway."
            )
        admin = User.objects.filter(email=ADMIN_EMAIL).first()
        if admin is None:
            admin = User.objects.create_superuser(ADMIN_EMAIL, ADMIN_PASSWORD)
        EmailAddress.objects.update_or_create(
            user=admin, email=ADMIN_EMAIL, defaults={"verified": True, "primary": True}
        )

        user = User.objects.filter(email=MEMBER_EMAIL).first()
        if user is None:
            user = User.objects.create_user(
                MEMBER_EMAIL, MEMBER_PASSWORD, first_name="Lin", last_name="Demo"
            )
        EmailAddress.objects.update_or_create(
            user=user, email=MEMBER_EMAIL, defaults={"verified": True, "primary": True}
        )
        member = Member.objects.filter(user=user).first() or member_create(
            user=user, external_id="demo-customer-1"
        )
        member_mark_verified(member=member)
        PaidPlan.objects.get_or_create(code=DEMO_PLAN["code"], defaults=DEMO_PLAN)
        self._history(member)
        existing = set(Reward.objects.values_list("code", flat=True))
        if missing := [d for d in DEMO_REWARDS if d["code"] not in existing]:
            rewards_import(documents=[RewardDocument.model_validate(d) for d in missing])
        for data in DEMO_CAMPAIGNS:
            if not Campaign.objects.filter(code=data["code"]).exists():
                campaign_save(document=document_parse(data))

        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"  Staff (admin at /admin/): {ADMIN_EMAIL} / {ADMIN_PASSWORD}")
        self.stdout.write(
            f"  Member (portal at /):     {MEMBER_EMAIL} / {MEMBER_PASSWORD}  ({member.number})"
        )

    def _history(self, member: Member) -> None:
        now = timezone.now()
        shop = shop_default()
        for order_id, days_ago, amount in DEMO_ORDERS:
            data = OrderInput(
                order_id=order_id,
                member_number=member.number,
                placed_at=now - dt.timedelta(days=days_ago),
                currency=settings.PROGRAM_CURRENCY,
                total_minor=amount,
                lines=[LineInput(sku="TEA-1", category="tea", quantity=1, amount_minor=amount)],
            )
            if not Order.objects.filter(shop=shop, order_id=order_id).exists():
                order_record(shop=shop, data=data, fingerprint=f"demo:{order_id}")
        if not Entry.objects.filter(member=member, idempotency_key="demo:redeem").exists():
            points_redeem(
                member=member,
                points=1000,
                source=Source(Entry.Source.REWARD, "demo-voucher"),
                key="demo:redeem",
                reason="10.00 off an order",
            )
