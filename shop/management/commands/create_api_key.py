from django.core.management.base import BaseCommand, CommandParser

from shop.services import api_key_create


class Command(BaseCommand):
    help = (
        "Create an API key for a shop and print it. It is shown this once; only its hash is kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="Who the key is for, e.g. the shop's name.")

    def handle(self, *args: object, **options: str) -> None:
        api_key, plaintext = api_key_create(name=options["name"])
        self.stderr.write(
            f"API key {api_key.prefix} for {api_key.name!r} created. "
            "Store it now; it cannot be shown again."
        )
        self.stdout.write(plaintext)
