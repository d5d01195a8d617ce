from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from django_kyc.schedules import SWEEP_SCHEDULE_NAME, install_schedules


class Command(BaseCommand):
    help = "Create or update the django-q2 schedule that retries due work and polls stale verifications."

    def handle(self, *args: Any, **options: Any) -> None:
        created = install_schedules()
        verb = "Created" if created else "Updated"
        self.stdout.write(self.style.SUCCESS(f"{verb} schedule {SWEEP_SCHEDULE_NAME!r}."))
