"""`manage.py send_outbox`: send what the outbox holds due now. For a site without
a Celery broker, from cron every minute; safe beside a running worker."""

from typing import Any

from django.core.management.base import BaseCommand

from notifications.services import outbox_send_due


class Command(BaseCommand):
    help = "Send the messages of the outbox that are due."

    def handle(self, *args: object, **options: Any) -> None:
        counts = outbox_send_due()
        summary = ", ".join(f"{key}={value}" for key, value in sorted(counts.items()))
        self.stdout.write(f"send_outbox: {summary or 'nothing due'}")
