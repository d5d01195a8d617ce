from __future__ import annotations

import pytest

from django_kyc.models import AuditEvent, Verification, WebhookEvent
from django_kyc.status import ApplicantStatus, VerificationStatus


@pytest.mark.django_db
def test_api_to_decision_in_process(user, client_for, png, django_capture_on_commit_callbacks):
    client = client_for(user)
    response = client.post("/kyc/api/applicants/", {"first_name": "Jane", "last_name": "Doe"}, format="json")
    assert response.status_code == 201, response.content
    applicant_id = response.json()["id"]
    response = client.post(
        f"/kyc/api/applicants/{applicant_id}/documents/",
        {"type": "passport", "number": "X1", "issuing_country": "gb", "file": png()},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/kyc/api/applicants/{applicant_id}/verifications/", {}, format="json")
    assert response.status_code == 201, response.content
    verification = Verification.objects.get(pk=response.json()["id"])
    assert verification.status == VerificationStatus.APPROVED, (verification.status, verification.last_error)
    assert verification.applicant.status == ApplicantStatus.VERIFIED
    assert list(WebhookEvent.objects.values_list("state", flat=True)) == ["processed"]
    moves = list(
        AuditEvent.objects.filter(object_type="verification", action="status_change")
        .order_by("id")
        .values_list("from_status", "to_status")
    )
    assert moves == [("pending", "processing"), ("processing", "approved")]
