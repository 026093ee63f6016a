import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from campaigns.catalogue import campaigns_import
from campaigns.documents import DocumentErrors


class Command(BaseCommand):
    help = (
        "Create or update campaigns from a JSON file (an array of documents, by code): "
        "all or nothing, every error listed with its path."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", help="a JSON file: an array of campaign documents")

    def handle(self, *args: object, **options: Any) -> None:
        try:
            with open(options["file"], encoding="utf-8") as file:
                documents = json.load(file)
        except (OSError, ValueError) as error:
            raise CommandError(f"cannot read {options['file']}: {error}") from None
        try:
            result = campaigns_import(documents=documents)
        except DocumentErrors as error:
            for path, message in error.errors:
                self.stderr.write(f"{path}: {message}")
            raise CommandError(f"{len(error.errors)} error(s); no campaign was written.") from None
        self.stdout.write(f"campaigns: {result.created} created, {result.updated} updated")
