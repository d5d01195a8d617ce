"""When an approved applicant is screened again: the interval per risk level, and which of their fields a
screening reads.

The rules sit here, beside the models, because :meth:`Applicant.save` keeps ``next_screening_at`` in step with
them whoever saves the row (the admin, the API, a provider filling in a blank, the site's own code): a model
must not reach up into the service layer (``services.rescreening``) for a pure function.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from django_kyc.conf import DEFAULTS, kyc_settings

#: The applicant fields a person screening matches on: a change to any of them triggers a re-screening.
SCREENED_FIELDS = ("first_name", "middle_name", "last_name", "date_of_birth", "nationality")


def rescreening_interval(risk_level: str) -> timedelta | None:
    """Time between two screenings at ``risk_level`` (``RESCREENING_INTERVAL_DAYS`` over its defaults: a level
    the site left out keeps its default rather than never being screened); ``None``: not on a schedule."""
    configured = kyc_settings.RESCREENING_INTERVAL_DAYS
    intervals = {**DEFAULTS["RESCREENING_INTERVAL_DAYS"], **(configured if isinstance(configured, Mapping) else {})}
    days = intervals.get(risk_level, DEFAULTS["RESCREENING_INTERVAL_DAYS"]["high"])
    return None if days is None else timedelta(days=float(days))


def next_screening_after(moment: datetime, risk_level: str) -> datetime | None:
    """When an applicant screened (or approved) at ``moment`` is due again; ``None``: not on a schedule."""
    interval = rescreening_interval(risk_level)
    return None if interval is None else moment + interval


def rescheduled_for_risk(next_at: datetime | None, old_level: str, new_level: str, now: datetime) -> datetime | None:
    """The next screening once the risk level changes: counted from the same last screening, at the new
    level's pace (a customer rated high today is not left on the low-risk year). A screening already due stays
    due (it may be owed to a change of name), and ``now`` stands for the last screening when the old level had
    no schedule to count back from."""
    if next_at is not None and next_at <= now:
        return next_at
    old = rescreening_interval(old_level)
    base = next_at - old if next_at is not None and old is not None else now
    return next_screening_after(base, new_level)
