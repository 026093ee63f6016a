from typing import Any

from django.core.management.base import BaseCommand

from notifications.push import vapid_keys_generate


class Command(BaseCommand):
    help = "Print a new VAPID key pair for Web Push, as the two settings to put in the environment."

    def handle(self, *args: object, **options: Any) -> None:
        public, private = vapid_keys_generate()
        self.stdout.write(f"VAPID_PUBLIC_KEY={public}\nVAPID_PRIVATE_KEY={private}\n")
