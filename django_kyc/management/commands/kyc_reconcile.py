from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from django_kyc.exceptions import KycError
from django_kyc.services import reconcile


class Command(BaseCommand):
    help = "Walk a provider's list of verifications (every page) and apply any state we missed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("alias", help='A key of DJANGO_KYC["BACKENDS"] whose backend supports reconciliation.')
        parser.add_argument("--since", help="Only submissions since this ISO date or datetime.")

    def handle(self, *args: Any, **options: Any) -> None:
        since = None
        if options["since"]:
            try:
                since = datetime.fromisoformat(options["since"])
            except ValueError as exc:
                raise CommandError(f"--since must be an ISO date or datetime: {exc}") from exc
            if timezone.is_naive(since):
                since = timezone.make_aware(since)
        counts: dict[str, int] = {}
        try:
            for number, (_, outcome) in enumerate(reconcile.reconcile(options["alias"], since), start=1):
                counts[outcome] = counts.get(outcome, 0) + 1
                if number % 100 == 0:
                    self.stdout.write(f"  {number} submissions compared…")
        except KycError as exc:
            raise CommandError(str(exc)) from exc
        total = sum(counts.values())
        detail = ", ".join(f"{name} {count}" for name, count in sorted(counts.items())) or "nothing listed"
        self.stdout.write(self.style.SUCCESS(f"Reconciled {total} submission(s): {detail}."))
