from django.core.management.base import BaseCommand, CommandError, CommandParser

from shop.models import DEFAULT_SHOP_CODE, Shop
from shop.selectors import shop_get
from shop.services import api_key_create


class Command(BaseCommand):
    help = (
        "Create an API key for a shop and print it. It is shown this once; only its hash is kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="Who the key is for, e.g. the shop's site or app.")
        parser.add_argument(
            "--shop",
            default=DEFAULT_SHOP_CODE,
            metavar="CODE",
            help=f"The code of the shop the key acts for (default: {DEFAULT_SHOP_CODE}).",
        )

    def handle(self, *args: object, **options: str) -> None:
        shop = shop_get(code=options["shop"])
        if shop is None:
            codes = ", ".join(Shop.objects.order_by("code").values_list("code", flat=True))
            raise CommandError(
                f"No shop has the code {options['shop']!r} (shops: {codes}). "
                "Add the shop in the admin first."
            )
        api_key, plaintext = api_key_create(name=options["name"], shop=shop)
        self.stderr.write(
            f"API key {api_key.prefix} for {api_key.name!r} of shop {shop.code!r} created. "
            "Store it now; it cannot be shown again."
        )
        self.stdout.write(plaintext)
