"""Demo data for a first run: a staff superuser and a demo member with a
believable points history. Safe to run again: what exists is kept, what is
missing is created (every write carries a fixed idempotency key)."""

import datetime as dt

from allauth.account.models import EmailAddress
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from members.models import Member, User
from members.services import member_create, member_mark_verified
from points.models import Entry
from points.services import Source, points_earn, points_redeem

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin-demo-2026"  # noqa: S105 - demo data, printed for the user
MEMBER_EMAIL = "demo@example.com"
MEMBER_PASSWORD = "member-demo-2026"  # noqa: S105 - demo data, printed for the user

# (order id, days ago, points): what the demo member's orders earned.
DEMO_ORDERS = [("D-1001", 160, 420), ("D-1002", 95, 1280), ("D-1003", 40, 655), ("D-1004", 3, 310)]
RETURN_WINDOW_DAYS = 14


class Command(BaseCommand):
    help = "Create demo data (idempotent): a staff superuser and a demo member with points."

    @transaction.atomic
    def handle(self, *args: object, **options: object) -> None:
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
        self._history(member)

        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"  Staff (admin at /admin/): {ADMIN_EMAIL} / {ADMIN_PASSWORD}")
        self.stdout.write(
            f"  Member (portal at /):     {MEMBER_EMAIL} / {MEMBER_PASSWORD}  ({member.number})"
        )

    def _history(self, member: Member) -> None:
        now = timezone.now()
        for order_id, days_ago, points in DEMO_ORDERS:
            placed = now - dt.timedelta(days=days_ago)
            release = placed + dt.timedelta(days=RETURN_WINDOW_DAYS)
            if Entry.objects.filter(member=member, idempotency_key=f"demo:{order_id}").exists():
                continue
            points_earn(
                member=member,
                points=points,
                source=Source(Entry.Source.ORDER, order_id),
                key=f"demo:{order_id}",
                available_from=release if release > now else None,
                effective_at=placed,
            )
        if not Entry.objects.filter(member=member, idempotency_key="demo:redeem").exists():
            points_redeem(
                member=member,
                points=1000,
                source=Source(Entry.Source.REWARD, "demo-voucher"),
                key="demo:redeem",
                reason="10.00 off an order",
            )
