"""Rows for the benchmarks, written in bulk: set-up, not the thing measured.

Statuses are written directly here, as the test suite's fixtures do; every change the benchmarks measure
goes through django_kyc's services.
"""

from __future__ import annotations

import uuid
from datetime import date


def verifications(count: int, *, backend: str, status: str, prefix: str) -> list[tuple[str, str]]:
    """``count`` applicants, each with one verification in ``status``; returns (pk, provider reference)."""
    from django.contrib.auth import get_user_model

    from django_kyc.models import Applicant, Verification

    user_model = get_user_model()
    users = user_model.objects.bulk_create(
        user_model(username=f"{prefix}-{index}", email=f"{prefix}-{index}@example.com") for index in range(count)
    )
    applicants = Applicant.objects.bulk_create(
        Applicant(
            id=uuid.uuid4(),
            user=user,
            reference=f"{prefix}-{index}",
            first_name="Bench",
            last_name=f"Applicant{index}",
            date_of_birth=date(1990, 1, 1),
            country="GB",
        )
        for index, user in enumerate(users)
    )
    rows = Verification.objects.bulk_create(
        Verification(
            id=uuid.uuid4(),
            applicant=applicant,
            backend=backend,
            status=status,
            provider_verification_id=f"{prefix}_ver_{index}" if status != "pending" else "",
        )
        for index, applicant in enumerate(applicants)
    )
    return [(str(row.pk), row.provider_verification_id) for row in rows]
