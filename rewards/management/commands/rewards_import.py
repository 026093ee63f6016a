import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from pydantic import TypeAdapter, ValidationError

from rewards.documents import RewardDocument, error_lines
from rewards.services.rewards import rewards_import, rewards_import_errors

Documents = TypeAdapter(list[RewardDocument])


class Command(BaseCommand):
    help = (
        "Create or update rewards (by code) from a JSON file: a list of reward documents "
        "(or one). Every error is listed with its path; on any error nothing is written."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: object, **options: Any) -> None:
        try:
            data = json.loads(options["file"].read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise CommandError(f"{options['file']}: {error}") from None
        if isinstance(data, dict):
            data = [data]
        try:
            documents = Documents.validate_python(data)
        except ValidationError as error:
            raise CommandError(self._errors(error_lines(error))) from None
        if errors := rewards_import_errors(documents=documents):
            raise CommandError(self._errors(errors))
        created, updated = rewards_import(documents=documents)
        self.stdout.write(f"rewards_import: {created} created, {updated} updated")

    def _errors(self, lines: list[str]) -> str:
        return f"{len(lines)} error(s), nothing written:\n" + "\n".join(lines)
