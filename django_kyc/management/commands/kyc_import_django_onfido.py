"""``manage.py kyc_import_django_onfido``: bring a site's django-onfido rows into django-kyc.

The work is :mod:`django_kyc.importers.django_onfido`'s; this prints its progress and summary.
``docs/moving-from-django-onfido.md`` is the whole move, settings and webhook included.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_kyc.importers import django_onfido
from django_kyc.management.progress import progress_bar


class Command(BaseCommand):
    help = (
        "Import django-onfido's applicants, checks and reports into django-kyc: applicants linked to the same "
        "users, verifications with the Onfido ids and mapped statuses, audited. Safe to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--backend",
            default=django_onfido.DEFAULT_BACKEND,
            help='The DJANGO_KYC["BACKENDS"] alias of the imported verifications (default: %(default)s).',
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=django_onfido.DEFAULT_BATCH_SIZE,
            help="Users imported per transaction (default: %(default)s).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Count what would be imported; write nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        def show(done: int, total: int) -> None:
            self.stdout.write(f"  {progress_bar(done, total)} users")

        try:
            report = django_onfido.import_django_onfido(
                backend=options["backend"],
                batch_size=options["batch_size"],
                dry_run=options["dry_run"],
                progress=show,
            )
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        for line in report.skipped:
            self.stdout.write(f"  skipped {line}")
        self.stdout.write(self.style.SUCCESS(report.summary()))
