from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from django_kyc.services import due_diligence


class Command(BaseCommand):
    help = (
        "The daily review run (docs/review-policy.md): ask applicants whose review falls due within the notice "
        "period to verify again, and move those whose review or identity document lapsed to "
        "reverification_required."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=None,
            help='Applicants per page (default: DJANGO_KYC["REVIEW_BATCH_SIZE"]).',
        )
        parser.add_argument("--progress", action="store_true", help="Print the counts after every page.")

    def handle(self, *args: Any, **options: Any) -> None:
        def show(report: due_diligence.ReviewReport) -> None:
            self.stdout.write(report.summary())

        report = due_diligence.run_reviews(
            batch_size=options["batch_size"], progress=show if options["progress"] else None
        )
        self.stdout.write(self.style.SUCCESS(f"Done: {report.summary()}."))
