import json
from typing import Any

from django.core.management.base import BaseCommand

from rewards.documents import reward_document
from rewards.models import Reward


class Command(BaseCommand):
    help = (
        "Print every reward as JSON documents, the format rewards_import reads "
        "(points draws, kept in the admin, are left out)."
    )

    def handle(self, *args: object, **options: Any) -> None:
        rewards = (
            Reward.objects.exclude(kind=Reward.Kind.DRAW)
            .select_related("min_tier")
            .order_by("code")
        )
        documents = [reward_document(reward) for reward in rewards]
        self.stdout.write(json.dumps(documents, indent=2, ensure_ascii=False))
