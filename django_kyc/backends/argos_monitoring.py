"""Former home of :mod:`django_kyc.backends.argos.monitoring` (ARGOS's enrolment answers), kept importable."""

from __future__ import annotations

from django_kyc.backends.argos.monitoring import (
    ENROLLED,
    FAILURE_WORDS,
    ITEM_LISTS,
    NOT_ENROLLED,
    SUCCESS_WORDS,
    UNKNOWN,
    Enrolment,
    read_enrolment,
)

__all__ = [
    "ENROLLED",
    "FAILURE_WORDS",
    "ITEM_LISTS",
    "NOT_ENROLLED",
    "SUCCESS_WORDS",
    "UNKNOWN",
    "Enrolment",
    "read_enrolment",
]
