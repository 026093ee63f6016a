from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from batch import registry
from batch.command import add_job_arguments, job_options, run_with_progress


class Command(BaseCommand):
    help = "Run every nightly job, in order, for one programme day."

    def add_arguments(self, parser: ArgumentParser) -> None:
        add_job_arguments(parser)

    def handle(self, *args: object, **options: Any) -> None:
        as_of, chunk_size = job_options(options)
        for job in registry.all_in_order():
            run_with_progress(self, job.name, as_of, chunk_size)
