import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from campaigns.catalogue import campaigns_export


class Command(BaseCommand):
    help = "Print every campaign's document as a JSON array (what campaigns_import reads)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("codes", nargs="*", help="only these campaigns")

    def handle(self, *args: object, **options: Any) -> None:
        documents = campaigns_export(codes=options["codes"] or None)
        self.stdout.write(json.dumps(documents, indent=2, ensure_ascii=False))
