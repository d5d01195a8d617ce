from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from django_kyc.services import outbound, retention

BAR_WIDTH = 30


def progress_bar(done: int, total: int, width: int = BAR_WIDTH) -> str:
    """``[#########.....]  3/5 applicants`` — plain text, so it reads the same in a terminal and a log."""
    filled = width if total <= 0 else round(width * done / total)
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} applicants"


class Command(BaseCommand):
    help = (
        "Purge applicants whose retention period lapsed (and erasure requests now due): redact personal data, "
        "delete document files, ask providers to delete; keep decisions and the audit trail."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Report what would be purged; change nothing.")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=None,
            help='Applicants per batch (default: DJANGO_KYC["RETENTION_PURGE_BATCH_SIZE"]).',
        )

    def handle(self, *args: Any, **options: Any) -> None:
        def show(done: int, total: int) -> None:
            self.stdout.write(progress_bar(done, total))

        report = retention.purge_due(dry_run=options["dry_run"], batch_size=options["batch_size"], progress=show)
        if not options["dry_run"]:
            events = outbound.purge_settled_events()
            self.stdout.write(f"Outbound events deleted (settled, past OUTBOUND_EVENT_RETENTION_DAYS): {events}.")
        self.stdout.write(self.style.SUCCESS(report.summary().capitalize() + "."))
