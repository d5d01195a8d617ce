from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from django_kyc.services import rescreening


class Command(BaseCommand):
    help = (
        "Start the AML re-screenings that are due (what the daily schedule runs): approved applicants whose "
        "next screening date has passed are screened again, or enrolled in the provider's ongoing monitoring."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=None,
            help='Applicants per batch (default: DJANGO_KYC["RESCREENING_BATCH_SIZE"]).',
        )

    def handle(self, *args: Any, **options: Any) -> None:
        run = rescreening.rescreen_due(batch_size=options["batch_size"])
        self.stdout.write(self.style.SUCCESS(f"Re-screening: {run.summary()}."))
