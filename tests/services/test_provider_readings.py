"""What a provider read from the person and their documents is kept for the case page: the fields that agree by
name, the provider's values only where they differ (person data is not copied into ``provider_data``)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from django_kyc.backends.values import DocumentResult, ProviderState
from django_kyc.services import transitions
from django_kyc.services.audit import Change
from django_kyc.status import DocumentStatus, Source, VerificationStatus
from tests.support.factories import make_verification

pytestmark = pytest.mark.django_db


def test_agreeing_fields_are_named_and_differences_kept(make_applicant: Any) -> None:
    applicant = make_applicant(last_name="Smith", date_of_birth="1990-01-02")
    document = applicant.documents.get()
    verification = make_verification(applicant, VerificationStatus.PROCESSING)
    state = ProviderState(
        status=VerificationStatus.REVIEW,
        provider_status="review",
        applicant_data={"first_name": "JANE", "last_name": "Smith", "date_of_birth": "1990-02-01"},
        documents=[
            DocumentResult(
                status=DocumentStatus.UPLOADED,
                document_id=str(document.pk),
                fields={"number": "X7654321", "issuing_country": "gb", "type": "passport"},
            )
        ],
    )
    transitions.apply_provider_state(verification.pk, state, Change.provider("sandbox", Source.WEBHOOK))
    verification.refresh_from_db()
    data = verification.provider_data
    assert data[transitions.CONFIRMED_FIELDS] == ["first_name", "last_name"]
    assert data["applicant_mismatches"] == {"date_of_birth": {"applicant": "1990-01-02", "provider": "1990-02-01"}}
    assert data[transitions.DOCUMENT_READINGS] == {
        str(document.pk): {"confirmed": ["issuing_country"], "mismatches": {"number": "X7654321"}}
    }
    # the names that agree are not copied: only what differs is kept
    assert "JANE" not in json.dumps(data)
    assert "X1234567" not in json.dumps(data)
