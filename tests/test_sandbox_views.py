"""The sandbox's hosted capture page: the stand-in for a provider's capture flow."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from django_kyc.models import Verification
from django_kyc.services import submission
from django_kyc.services.audit import Change
from django_kyc.status import Source, VerificationStatus

pytestmark = pytest.mark.django_db


def hosted_verification(make_applicant: Any, capture: Any, last_name: str = "Smith") -> Verification:
    with capture(execute=True):
        verification = submission.start_verification(
            make_applicant(last_name=last_name), Change.system(Source.API), backend="hosted"
        )
    verification.refresh_from_db()
    assert verification.status == VerificationStatus.AWAITING_USER
    return verification


def test_finishing_the_capture_page_delivers_the_chosen_outcome(
    make_applicant: Any, django_capture_on_commit_callbacks: Any
) -> None:
    verification = hosted_verification(make_applicant, django_capture_on_commit_callbacks)
    page = Client().get(verification.client_link)
    assert page.status_code == 200
    assert b'name="outcome"' in page.content
    with django_capture_on_commit_callbacks(execute=True):
        done = Client().post(verification.client_link, {"outcome": "needs_review"})
    assert done.status_code == 200
    verification.refresh_from_db()
    assert verification.status == VerificationStatus.REVIEW


def test_capture_link_expires_with_the_reported_expiry(
    make_applicant: Any, django_capture_on_commit_callbacks: Any, time_machine: Any
) -> None:
    verification = hosted_verification(make_applicant, django_capture_on_commit_callbacks)
    assert verification.client_token_expires_at is not None
    time_machine.move_to(verification.client_token_expires_at + timedelta(seconds=5))
    assert Client().get(verification.client_link).status_code == 404
    time_machine.move_to(timezone.now() - timedelta(hours=2))


def test_tampered_capture_link_is_a_404(make_applicant: Any, django_capture_on_commit_callbacks: Any) -> None:
    verification = hosted_verification(make_applicant, django_capture_on_commit_callbacks)
    assert Client().get(verification.client_link.rstrip("/") + "x/").status_code == 404


def test_capture_page_is_off_in_production_unless_the_alias_opts_in(
    make_applicant: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """The page lets the link holder pick the outcome: with DEBUG off it answers 404 unless CAPTURE_PAGE."""
    from django.conf import settings
    from django.test import override_settings

    verification = hosted_verification(make_applicant, django_capture_on_commit_callbacks)
    hosted = settings.DJANGO_KYC["BACKENDS"]["hosted"]
    options = {key: value for key, value in hosted["OPTIONS"].items() if key != "CAPTURE_PAGE"}
    backends = {**settings.DJANGO_KYC["BACKENDS"], "hosted": {**hosted, "OPTIONS": options}}
    with override_settings(DEBUG=False, DJANGO_KYC={**settings.DJANGO_KYC, "BACKENDS": backends}):
        assert Client().get(verification.client_link).status_code == 404
        assert Client().post(verification.client_link, {"outcome": "approved"}).status_code == 404
    verification.refresh_from_db()
    assert verification.status == VerificationStatus.AWAITING_USER
