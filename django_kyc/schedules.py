"""Installing the django-q2 schedules: the sweeper that drives retries and polling, the daily purge and the
daily review run."""

from __future__ import annotations

from typing import Any

from django_kyc.conf import kyc_settings

SWEEP_SCHEDULE_NAME = "django_kyc.sweep"
PURGE_SCHEDULE_NAME = "django_kyc.purge"
REVIEW_SCHEDULE_NAME = "django_kyc.review"


def install_schedules(**kwargs: Any) -> bool:
    """Create or update the sweeper schedule. Idempotent; returns True when it created one.
    (The purge has its own, :func:`install_purge_schedule`; both are installed on migrate.)"""
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


def install_purge_schedule() -> bool | None:
    """Create or update the daily retention purge, keyed by name so re-running never adds a second one.

    Daily is enough: retention is counted in years, and a due applicant waits at most a day. With
    ``RETENTION_PURGE_SCHEDULE`` off the schedule is removed (the site runs ``kyc_purge`` itself) and
    ``None`` is returned; otherwise True when it was created.
    """
    from django_q.models import Schedule

    if not kyc_settings.RETENTION_PURGE_SCHEDULE:
        Schedule.objects.filter(name=PURGE_SCHEDULE_NAME).delete()
        return None
    _, created = Schedule.objects.update_or_create(
        name=PURGE_SCHEDULE_NAME,
        defaults={"func": "django_kyc.tasks.purge_expired", "schedule_type": Schedule.DAILY, "repeats": -1},
    )
    return created


def install_review_schedule() -> bool | None:
    """Create or update the daily review run (:mod:`django_kyc.services.due_diligence`), keyed by name.

    Daily is the policy's own grain: review dates are months apart and a notice period is days long. With
    ``REVIEW_SCHEDULE`` off the schedule is removed (the site runs ``kyc_review`` itself) and ``None`` is
    returned; otherwise True when it was created.
    """
    from django_q.models import Schedule

    if not kyc_settings.REVIEW_SCHEDULE:
        Schedule.objects.filter(name=REVIEW_SCHEDULE_NAME).delete()
        return None
    _, created = Schedule.objects.update_or_create(
        name=REVIEW_SCHEDULE_NAME,
        defaults={"func": "django_kyc.tasks.run_reviews", "schedule_type": Schedule.DAILY, "repeats": -1},
    )
    return created


def install_on_migrate(sender: Any, **kwargs: Any) -> None:
    if kyc_settings.INSTALL_SCHEDULES_ON_MIGRATE:
        install_schedules()
        install_purge_schedule()
        install_review_schedule()
