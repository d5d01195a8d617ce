from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from django_kyc.schedules import (
    PURGE_SCHEDULE_NAME,
    REVIEW_SCHEDULE_NAME,
    SWEEP_SCHEDULE_NAME,
    install_purge_schedule,
    install_review_schedule,
    install_schedules,
)


class Command(BaseCommand):
    help = (
        "Create or update the django-q2 schedules: the sweeper (retries due work, polls stale verifications) "
        "the daily retention purge and the daily review run."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        created = install_schedules()
        verb = "Created" if created else "Updated"
        self.stdout.write(self.style.SUCCESS(f"{verb} schedule {SWEEP_SCHEDULE_NAME!r}."))
        purge = install_purge_schedule()
        if purge is None:
            self.stdout.write(f"Removed schedule {PURGE_SCHEDULE_NAME!r} (RETENTION_PURGE_SCHEDULE is off).")
        else:
            self.stdout.write(
                self.style.SUCCESS(f"{'Created' if purge else 'Updated'} schedule {PURGE_SCHEDULE_NAME!r}.")
            )
        reviews = install_review_schedule()
        if reviews is None:
            self.stdout.write(f"Removed schedule {REVIEW_SCHEDULE_NAME!r} (REVIEW_SCHEDULE is off).")
        else:
            self.stdout.write(
                self.style.SUCCESS(f"{'Created' if reviews else 'Updated'} schedule {REVIEW_SCHEDULE_NAME!r}.")
            )
