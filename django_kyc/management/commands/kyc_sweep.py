from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from django_kyc.tasks import sweep


class Command(BaseCommand):
    help = "Run the sweeper once: enqueue due retries, lost work and polls of stale verifications."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(sweep())
