"""``manage.py kyc_health``: is the background worker running? Exit 1 when it is not.

A system check cannot see a running cluster; the sweeper's heartbeat can (:mod:`django_kyc.services.health`).
Usable as a container health check or a monitoring probe: it prints the state and exits non-zero when the
sweeper never ran or has not run for longer than the allowed age.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_kyc.conf import kyc_settings
from django_kyc.services.health import read_worker_health, untouched_work


class Command(BaseCommand):
    help = (
        "Say whether the background worker (the django-q2 cluster) is running, from the age of the sweeper's "
        "last run, and how much work no worker has attempted yet. Exits 1 when the sweeper never ran or has not "
        "run for longer than DJANGO_KYC['HEALTH_STALE_AFTER_SECONDS'] (or --max-age-minutes)."
    )
    # a probe runs every few seconds: system-check warnings on each run would only be noise
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--max-age-minutes",
            type=float,
            help="Unhealthy when the sweeper's last run is older than this (default: HEALTH_STALE_AFTER_SECONDS, "
            "or five sweeper intervals).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        max_age = options["max_age_minutes"]
        health = read_worker_health(stale_after=None if max_age is None else timedelta(minutes=max_age))
        self.stdout.write(health.summary)
        allowed = f"{health.stale_after.total_seconds() / 60:g} minutes"
        if health.last_run is not None:
            self.stdout.write(f"Last run: {health.last_run.isoformat()} (unhealthy after {allowed}).")
        waiting = ", ".join(f"{label} {count}" for label, count in untouched_work(health.checked_at).items())
        grace = float(kyc_settings.SWEEP_GRACE_SECONDS)
        self.stdout.write(f"Not attempted by any worker after {grace:g} s: {waiting}.")
        if health.stale:
            raise CommandError(f"The background worker is not running. {health.advice}", returncode=1)
        self.stdout.write(self.style.SUCCESS("Healthy."))
