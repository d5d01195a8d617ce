"""Installing the django-q2 schedules: the sweeper that drives retries and polling, and the daily jobs (retention
purge, periodic review, re-screening)."""

from __future__ import annotations

from typing import Any

from django_kyc.conf import kyc_settings

SWEEP_SCHEDULE_NAME = "django_kyc.sweep"
PURGE_SCHEDULE_NAME = "django_kyc.purge"
REVIEW_SCHEDULE_NAME = "django_kyc.review"
RESCREENING_SCHEDULE_NAME = "django_kyc.rescreen"
SANCTIONS_LISTS_SCHEDULE_NAME = "django_kyc.sanctions_lists"


def install_schedules(**kwargs: Any) -> bool:
    """Create or update the sweeper schedule. Idempotent; returns True when it created one.
    (The daily jobs have their own installers below; all are installed on migrate.)"""
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


def _install_daily(name: str, func: str, enabled: bool) -> bool | None:
    """Create or update a daily job keyed by name, so re-running never adds a second one. With its setting off
    the schedule is removed (the site runs the matching command itself) and ``None`` is returned; otherwise
    True when it was created."""
    from django_q.models import Schedule

    if not enabled:
        Schedule.objects.filter(name=name).delete()
        return None
    _, created = Schedule.objects.update_or_create(
        name=name, defaults={"func": func, "schedule_type": Schedule.DAILY, "repeats": -1}
    )
    return created


def install_purge_schedule() -> bool | None:
    """The retention purge (``kyc_purge``). Daily is enough: retention is counted in years, and a due applicant
    waits at most a day."""
    return _install_daily(PURGE_SCHEDULE_NAME, "django_kyc.tasks.purge_expired", kyc_settings.RETENTION_PURGE_SCHEDULE)


def install_review_schedule() -> bool | None:
    """The review run (``kyc_review``, :mod:`django_kyc.services.due_diligence`). Daily is the policy's own
    grain: review dates are months apart and a notice period is days long."""
    return _install_daily(REVIEW_SCHEDULE_NAME, "django_kyc.tasks.run_reviews", kyc_settings.REVIEW_SCHEDULE)


def install_rescreening_schedule() -> bool | None:
    """The re-screening (``kyc_rescreen``). Daily is enough: the shortest default interval is a month, and a
    change of name is re-screened by its own task at once."""
    return _install_daily(RESCREENING_SCHEDULE_NAME, "django_kyc.tasks.rescreen_due", kyc_settings.RESCREENING_SCHEDULE)


def install_sanctions_lists_schedule() -> bool | None:
    """The sanctions lists refresh (``kyc_load_lists``). Daily, as the authorities publish at any time but a
    day's delay is what screening policies commonly accept; an unchanged file costs one download."""
    return _install_daily(
        SANCTIONS_LISTS_SCHEDULE_NAME, "django_kyc.tasks.refresh_sanctions_lists", kyc_settings.SANCTIONS_LISTS_SCHEDULE
    )


def install_on_migrate(sender: Any, **kwargs: Any) -> None:
    if kyc_settings.INSTALL_SCHEDULES_ON_MIGRATE:
        install_schedules()
        install_purge_schedule()
        install_review_schedule()
        install_rescreening_schedule()
        install_sanctions_lists_schedule()
