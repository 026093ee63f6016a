import datetime as dt
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from pydantic import ValidationError
from tqdm import tqdm

from batch.command import as_of_date
from batch.services import program_today
from members.selectors import member_get
from rewards.documents import CouponTerms, error_lines
from rewards.models import Coupon
from rewards.services.batches import (
    MAX_COUNT,
    coupon_batch_codes,
    coupon_batch_create,
    coupon_batch_generate,
)
from rewards.services.coupons import coupon_create, coupon_expiry
from shop.errors import DomainError


class Command(BaseCommand):
    help = (
        "Issue coupons and print their codes, one a line: one, or --count K unique codes "
        "(a batch, also listed in the admin)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--kind", required=True, choices=["amount", "percent", "free_shipping", "gift"]
        )
        parser.add_argument("--value", help="an amount (10.00) or a whole percent (15)")
        parser.add_argument("--max-discount", help="the cap of a percent coupon (20.00)")
        parser.add_argument("--min-spend", default="0", help="the order total it needs (50.00)")
        parser.add_argument("--uses", type=int, default=1, help="uses allowed (0: unlimited)")
        parser.add_argument(
            "--expires", type=as_of_date, help="the last day it can be used (YYYY-MM-DD)"
        )
        parser.add_argument("--member", help="the member number it belongs to")
        parser.add_argument("--count", type=int, default=1, help=f"codes (up to {MAX_COUNT:,})")
        parser.add_argument("--name", default="", help="the batch's name (with --count)")
        parser.add_argument("--prefix", default="", help="a prefix for every code (XMAS-)")

    def handle(self, *args: object, **options: Any) -> None:
        expires: dt.date | None = options["expires"]
        if expires is not None and expires < program_today():
            raise CommandError("--expires: the last day is in the past")
        if options["uses"] < 0:
            raise CommandError("--uses: 0 (unlimited) or more")
        try:
            terms = CouponTerms(
                kind=options["kind"],
                value=options["value"],
                max_discount=options["max_discount"],
                min_spend=options["min_spend"],
                uses=options["uses"] or None,
            )
        except ValidationError as error:
            raise CommandError("\n".join(error_lines(error, prefix="options"))) from None
        spec = terms.spec(expires_at=coupon_expiry(last_day=expires) if expires else None)
        member = None
        if options["member"]:
            member = member_get(number=options["member"])
            if member is None:
                raise CommandError(f"--member: no member has the number {options['member']!r}")
        try:
            if options["count"] == 1 and not options["name"]:
                coupon = coupon_create(
                    spec=spec, source=Coupon.Source.STAFF, owner=member, prefix=options["prefix"]
                )
                self.stdout.write(coupon.code)
                return
            batch = coupon_batch_create(
                name=options["name"] or f"coupons_issue {program_today()}",
                count=options["count"],
                spec=spec,
                prefix=options["prefix"],
                owner=member,
            )
        except DomainError as error:
            raise CommandError(error.message) from None
        with tqdm(total=batch.count, unit="code", file=self.stderr, leave=False) as bar:
            coupon_batch_generate(
                batch_id=batch.pk, progress=lambda done, total: bar.update(done - bar.n)
            )
        for code in coupon_batch_codes(batch=batch):
            self.stdout.write(code)
