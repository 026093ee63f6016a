from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from batch.command import as_of_date
from batch.services import program_today
from personalisation.evaluation import recommendations_evaluate


class Command(BaseCommand):
    help = (
        "Hold out each member's last order and print precision@10, recall@10 and "
        "catalogue coverage of each algorithm beside the popularity baseline."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--as-of", type=as_of_date, default=None, help="the night (YYYY-MM-DD)")
        parser.add_argument("--k", type=int, default=10, help="recommendations compared (10)")
        parser.add_argument("--members", type=int, default=None, help="evaluate at most N members")

    def handle(self, *args: object, **options: Any) -> None:
        if options["k"] < 1:
            raise CommandError("--k must be at least 1")
        scores = recommendations_evaluate(
            as_of=options["as_of"] or program_today(), k=options["k"], members=options["members"]
        )
        k = options["k"]
        self.stdout.write(
            f"{'algorithm':<14}{'members':>9}{f'precision@{k}':>15}{f'recall@{k}':>12}"
            f"{'coverage':>10}{'vs popularity':>15}"
        )
        baseline = scores[0].precision
        for score in scores:
            lift = f"x{score.precision / baseline:.2f}" if baseline else "-"
            self.stdout.write(
                f"{score.algorithm:<14}{score.members:>9}{score.precision:>15.4f}"
                f"{score.recall:>12.4f}{score.coverage:>10.3f}{lift:>15}"
            )
