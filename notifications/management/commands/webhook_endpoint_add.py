"""`manage.py webhook_endpoint_add URL --events a,b`: add an outgoing webhook
endpoint and print its signing secret (whsec_...)."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from notifications.webhooks import EVENTS, WebhookError, webhook_endpoint_add


class Command(BaseCommand):
    help = "Add an outgoing webhook endpoint; prints its secret."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("url")
        parser.add_argument(
            "--events", required=True, help=f"comma-separated, of: {', '.join(EVENTS)}"
        )
        parser.add_argument("--description", default="")

    def handle(self, *args: object, **options: Any) -> None:
        events = [event.strip() for event in options["events"].split(",") if event.strip()]
        try:
            _endpoint, secret = webhook_endpoint_add(
                url=options["url"], events=events, description=options["description"]
            )
        except WebhookError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(secret)
