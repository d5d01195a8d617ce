"""Rows a test starts from, written directly: set-up, not the behaviour under test."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Permission, User

from django_kyc.models import Applicant, Verification
from django_kyc.status import VerificationStatus


def create_user(username: str, *perms: str, staff: bool = False) -> User:
    """A user with some ``app_label.codename`` permissions, fetched again so no permission cache is stale."""
    user = User.objects.create_user(username=username, password="pw", is_staff=staff)
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return User.objects.get(pk=user.pk)  # drop the permission cache


def make_verification(
    applicant: Applicant, status: str = VerificationStatus.PENDING, backend: str = "sandbox", **fields: Any
) -> Verification:
    """A verification row in a given state, written directly: test set-up, not a status change under test."""
    verification = Verification.objects.create(applicant=applicant, backend=backend)
    Verification.objects.filter(pk=verification.pk).update(status=status, **fields)
    verification.refresh_from_db()
    return verification
