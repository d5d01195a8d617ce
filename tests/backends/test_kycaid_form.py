"""KYCAID's hosted-form mode against its fake server: the shared contract, plus the form's own behaviour."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from django_kyc.backends import get_backend
from django_kyc.models import Applicant, Document, Verification
from django_kyc.services import submission
from django_kyc.status import DocumentStatus, VerificationStatus
from django_kyc.testing.kycaid import FakeKycaid, FakeRequest
from tests.backends.contract import ALIAS
from tests.backends.test_kycaid import KycaidHooks, nameless_applicant

V = VerificationStatus
D = DocumentStatus


class TestKycaidFormContract(KycaidHooks):
    """Hosted-form mode with the default ``DECLINE_POLICY = "decline"``."""

    SUBMITTED_STATUS = V.AWAITING_USER
    STATUS_TABLE = [
        ("unused", V.AWAITING_USER),
        ("pending", V.PROCESSING),
        ("approved", V.APPROVED),
        ("declined", V.DECLINED),
        ("declined_quality", V.DECLINED),
        ("undecided", V.REVIEW),
        ("on_hold", V.REVIEW),
    ]
    EXTRA_OPTIONS = {"MODE": "form", "REDIRECT_URL": "https://example.com/kyc/done"}

    @pytest.mark.django_db
    def test_form_mode_returns_the_one_time_link(self, server: FakeKycaid, submitted: Verification) -> None:
        [form] = server.forms.values()
        kycaid = server.verifications[submitted.provider_verification_id]
        assert form["verification_id"] == submitted.provider_verification_id  # read from "verificaiton_id"
        assert submitted.client_link == f"{server.base_url}/hosted/{kycaid['form_token']}"
        assert submitted.client_token == kycaid["form_token"]
        assert form["redirect_url"] == "https://example.com/kyc/done"
        assert submitted.provider_status == "unused"
        assert server.applicants[submitted.provider_applicant_id]["first_name"] == "Jane"  # the form is pre-filled
        assert not server.documents
        assert not server.files

        page = requests.get(submitted.client_link, timeout=5)
        assert page.status_code == 200
        assert "<form" in page.text
        server.default_callback_url = ""
        for key in list(server.verifications):
            server.verifications[key]["callback_url"] = ""
        done = requests.post(submitted.client_link, allow_redirects=False, timeout=5)
        assert (done.status_code, done.headers["Location"]) == (303, "https://example.com/kyc/done")
        assert server.verifications[submitted.provider_verification_id]["status"] == "pending"
        assert requests.get(submitted.client_link, timeout=5).status_code == 410  # one-time

    @pytest.mark.django_db
    def test_correct_spelling_of_verification_id_is_accepted_too(
        self, server: FakeKycaid, backend: None, applicant: Applicant
    ) -> None:
        server.form_verification_key = "verification_id"
        verification = self.start(applicant)
        submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert verification.status == V.AWAITING_USER, verification.last_error
        assert verification.provider_verification_id in server.verifications

    @pytest.mark.django_db
    def test_a_new_link_can_be_issued(self, server: FakeKycaid, submitted: Verification) -> None:
        token = get_backend(ALIAS).issue_client_token(submitted)
        submitted.refresh_from_db()
        assert token.link != ""
        assert token.link.endswith(token.token)
        assert submitted.provider_verification_id in server.verifications
        assert len(server.forms) == 2
        assert server.applicant_count() == 1

    @pytest.mark.django_db
    def test_nameless_applicant_is_created_by_the_form(
        self, server: FakeKycaid, backend: None, make_applicant: Any
    ) -> None:
        nameless = nameless_applicant(make_applicant)
        verification = self.start(nameless)
        submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert verification.status == V.AWAITING_USER, verification.last_error
        assert verification.provider_applicant_id == ""
        assert ("POST", "/applicants") not in server.calls
        [kycaid] = server.applicants.values()
        assert kycaid["external_applicant_id"] == nameless.reference

    @pytest.mark.django_db
    @pytest.mark.parametrize(("attempts", "expected"), [(2, V.RESUBMISSION_REQUESTED), (1, V.DECLINED)])
    def test_quality_decline_depends_on_attempts_left(
        self,
        server: FakeKycaid,
        options: dict[str, Any],
        applicant: Applicant,
        attempts: int,
        expected: str,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        server.verification_attempts = attempts
        with self.configured({**options, "DECLINE_POLICY": "resubmit_quality"}):
            verification = self.start(applicant)
            submission.submit_verification(verification.pk)
            verification.refresh_from_db()
            assert verification.provider_data["kycaid_attempts_left"] == attempts
            ref = self.ref(verification)
            server.decide(ref, "pending")  # the person submits the form: one attempt used
            assert self.deliver(django_capture_on_commit_callbacks, server, ref).status_code == 200
            verification.refresh_from_db()
            assert (verification.status, verification.provider_data["kycaid_attempts_left"]) == (
                V.PROCESSING,
                attempts - 1,
            )
            server.decide(ref, "declined_quality")
            assert self.deliver(django_capture_on_commit_callbacks, server, ref).status_code == 200
        verification.refresh_from_db()
        assert verification.status == expected
        assert verification.reasons == ["BAD_QUALITY"]
        assert ("GET", f"/verifications/{ref}") in server.calls  # completed carries no attempts: fetched

    @pytest.mark.django_db
    def test_person_data_from_the_form_fills_blanks(
        self, server: FakeKycaid, backend: None, make_applicant: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        nameless = nameless_applicant(make_applicant, with_document=False)
        verification = self.start(nameless)
        submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        ref = self.ref(verification)
        kycaid = server.applicants[server.verifications[ref]["applicant_id"]]
        kycaid.update(first_name="Josh", last_name="Coffey", dob="1985-04-01")
        request = FakeRequest(
            method="POST",
            path="/documents",
            query={},
            headers={},
            body=json.dumps(
                {"applicant_id": kycaid["applicant_id"], "type": "PASSPORT", "document_number": "P99"}
            ).encode(),
        )
        assert server.create_document(request).status == 200
        server.decide(ref, "approved")
        assert self.deliver(django_capture_on_commit_callbacks, server, ref).status_code == 200
        nameless.refresh_from_db()
        assert (nameless.first_name, nameless.last_name, str(nameless.date_of_birth)) == (
            "Josh",
            "Coffey",
            "1985-04-01",
        )
        [document] = Document.objects.filter(applicant=nameless)
        assert (document.type, document.number, document.status) == ("passport", "P99", D.ACCEPTED)
