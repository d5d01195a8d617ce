"""Installing the django-q2 schedule that drives retries and polling."""

from __future__ import annotations

from typing import Any

from django_kyc.conf import kyc_settings

SWEEP_SCHEDULE_NAME = "django_kyc.sweep"


def install_schedules(**kwargs: Any) -> bool:
    """Create or update the sweeper schedule. Idempotent; returns True when it created one."""
    from django_q.models import Schedule

    _, created = Schedule.objects.update_or_create(
        name=SWEEP_SCHEDULE_NAME,
        defaults={
            "func": "django_kyc.tasks.sweep",
            "schedule_type": Schedule.MINUTES,
            "minutes": int(kyc_settings.SWEEP_EVERY_MINUTES),
            "repeats": -1,
        },
    )
    return created


def install_on_migrate(sender: Any, **kwargs: Any) -> None:
    if kyc_settings.INSTALL_SCHEDULES_ON_MIGRATE:
        install_schedules()
