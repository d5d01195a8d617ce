from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand

from django_kyc.schedules import (
    PURGE_SCHEDULE_NAME,
    RESCREENING_SCHEDULE_NAME,
    REVIEW_SCHEDULE_NAME,
    SANCTIONS_LISTS_SCHEDULE_NAME,
    SWEEP_SCHEDULE_NAME,
    install_purge_schedule,
    install_rescreening_schedule,
    install_review_schedule,
    install_sanctions_lists_schedule,
    install_schedules,
)

#: The daily jobs: (schedule name, installer, the setting that turns it off)
DAILY: list[tuple[str, Callable[[], bool | None], str]] = [
    (PURGE_SCHEDULE_NAME, install_purge_schedule, "RETENTION_PURGE_SCHEDULE"),
    (REVIEW_SCHEDULE_NAME, install_review_schedule, "REVIEW_SCHEDULE"),
    (RESCREENING_SCHEDULE_NAME, install_rescreening_schedule, "RESCREENING_SCHEDULE"),
    (SANCTIONS_LISTS_SCHEDULE_NAME, install_sanctions_lists_schedule, "SANCTIONS_LISTS_SCHEDULE"),
]


class Command(BaseCommand):
    help = (
        "Create or update the django-q2 schedules: the sweeper (retries due work, polls stale verifications), "
        "the daily retention purge, the daily review run, the daily re-screening and the daily sanctions lists refresh."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        created = install_schedules()
        self.stdout.write(
            self.style.SUCCESS(f"{'Created' if created else 'Updated'} schedule {SWEEP_SCHEDULE_NAME!r}.")
        )
        for name, install, setting in DAILY:
            outcome = install()
            if outcome is None:
                self.stdout.write(f"Removed schedule {name!r} ({setting} is off).")
            else:
                self.stdout.write(self.style.SUCCESS(f"{'Created' if outcome else 'Updated'} schedule {name!r}."))
