from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from django_kyc.services.sweeper import sweep


class Command(BaseCommand):
    help = "Run the sweeper once: enqueue due retries, lost work and polls of stale verifications."

    def handle(self, *args: Any, **options: Any) -> None:
        # no heartbeat: this runs in a shell, and the heartbeat says whether the cluster runs (kyc_health)
        self.stdout.write(sweep().summary())
