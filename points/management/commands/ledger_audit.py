import sys

from django.core.management.base import BaseCommand

from points.audit import CHECKS
from points.models import Account, Entry, Lot


class Command(BaseCommand):
    help = "Prove the ledger's invariants; exit 1 naming each member that breaks one."

    def handle(self, *args: object, **options: object) -> None:
        broken: set[str] = set()
        for rule, check in CHECKS.items():
            numbers = check()
            for number in numbers:
                self.stdout.write(f"{number}: {rule} -- BROKEN")
            broken.update(numbers)
        counts = (
            f"{Account.objects.count()} balances, {Entry.objects.count()} entries, "
            f"{Lot.objects.count()} lots checked"
        )
        if broken:
            self.stderr.write(f"ledger_audit: {len(broken)} member(s) break the ledger; {counts}")
            sys.exit(1)
        self.stdout.write(self.style.SUCCESS(f"ledger_audit: clean; {counts}"))
