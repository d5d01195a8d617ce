"""KYCAID against its fake server in API mode: the shared contract, plus what only KYCAID has.

Form mode is in ``test_kycaid_form.py``, the tables in ``test_kycaid_statuses.py``, signatures in
``test_kycaid_webhooks.py`` and the client on its own in ``test_kycaid_client.py``.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from datetime import date
from typing import Any

import pytest
from django.test import Client

from django_kyc.backends import get_backend
from django_kyc.backends.base import ProviderState
from django_kyc.backends.kycaid import KycaidBackend
from django_kyc.backends.kycaid.submission import document_fields
from django_kyc.exceptions import KycConfigurationError, PermanentProviderError, UnsupportedFeature
from django_kyc.models import Applicant, AuditEvent, Document, DocumentFile, Verification, WebhookEvent
from django_kyc.services import polling, submission, transitions
from django_kyc.services.audit import Change
from django_kyc.status import DocumentStatus, Source, VerificationStatus
from django_kyc.testing import FakeProviderServer
from django_kyc.testing.kycaid import FakeKycaid, sign
from tests.backends.contract import ALIAS, BackendContract
from tests.support.files import make_png

V = VerificationStatus
D = DocumentStatus
TOKEN = "kycaid-contract-token"
NEW_TOKEN = "kycaid-rotated-token"
FORM_ID = "58bed87600dd9944f02ba0c9cd8b32d6bd4c"
CALLBACK = f"http://testserver/kyc/webhooks/{ALIAS}/"
BACKEND = "django_kyc.backends.kycaid.KycaidBackend"


def nameless_applicant(make_applicant: Any, **fields: Any) -> Applicant:
    """An applicant who has typed no name yet (the hosted form will ask)."""
    applicant: Applicant = make_applicant(last_name="", **fields)
    Applicant.objects.filter(pk=applicant.pk).update(first_name="")
    applicant.refresh_from_db()
    return applicant


class KycaidHooks(BackendContract):
    """The contract's hooks for KYCAID; the two integration modes differ only in their options."""

    backend_class = BACKEND
    server_class = FakeKycaid
    UNKNOWN_OUTCOME = "on_hold"
    PROGRESS_OUTCOME = "pending"
    APPROVED_OUTCOME = "approved"
    SIGNED = True
    SIGNATURE_HEADER = "x-data-integrity"
    TIMESTAMPED = False  # KYCAID signs no timestamp; request_id de-duplicates replays
    PERMANENT_STATUS = 422
    #: KYCAID documents no search by external_applicant_id: a lost applicant is reported, not found again
    CREATE_CALL = ("POST", "/applicants")
    EXTRA_OPTIONS: dict[str, Any] = {}

    def server_kwargs(self) -> dict[str, Any]:
        return {"api_token": TOKEN, "form_id": FORM_ID, "callback_url": CALLBACK}

    def backend_options(self, server: FakeProviderServer) -> dict[str, Any]:
        return {
            "API_TOKEN": TOKEN,
            "BASE_URL": server.base_url,
            "FORM_ID": FORM_ID,
            "CALLBACK_URL": CALLBACK,
            **self.EXTRA_OPTIONS,
        }

    def wrong_credentials(self, options: dict[str, Any]) -> dict[str, Any]:
        return {**options, "API_TOKEN": "not-the-kycaid-token"}

    def rotated(self, options: dict[str, Any], server: FakeProviderServer) -> dict[str, Any]:
        """A new token is in use for API calls; callbacks are still signed with the previous one."""
        assert isinstance(server, FakeKycaid)
        server.extra_tokens.append(NEW_TOKEN)
        return {**options, "API_TOKEN": NEW_TOKEN, "WEBHOOK_TOKENS": [server.api_token]}

    def deliver(self, capture: Any, server: FakeKycaid, ref: str) -> Any:
        return self.post(capture, *server.webhook_for(ref))


class TestKycaidContract(KycaidHooks):
    """API mode, with ``DECLINE_POLICY = "resubmit_quality"`` so both decline outcomes are rows."""

    STATUS_TABLE = [
        ("pending", V.PROCESSING),
        ("approved", V.APPROVED),
        ("declined", V.DECLINED),
        ("declined_quality", V.RESUBMISSION_REQUESTED),
        ("undecided", V.REVIEW),
        ("on_hold", V.REVIEW),
    ]
    EXTRA_OPTIONS = {"DECLINE_POLICY": "resubmit_quality"}

    # --- answers lost after KYCAID did the work ----------------------------------------------------------
    def retried_after_a_lost_answer(
        self, server: FakeKycaid, applicant: Applicant, time_machine: Any, path: str
    ) -> Verification:
        from django.utils import timezone

        time_machine.move_to(timezone.now(), tick=False)
        server.fail_next(1, kind="lost", method="POST", path=path)
        verification = self.start(applicant)
        submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert verification.status == V.PENDING
        time_machine.move_to(verification.next_attempt_at, tick=False)
        submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert verification.status == V.PROCESSING, verification.last_error
        return verification

    @staticmethod
    def reported(verification: Verification) -> list[str]:
        rows = AuditEvent.objects.filter(object_id=str(verification.pk), action="possible_duplicate")
        return sorted(row.data["call"] for row in rows)

    @pytest.mark.django_db
    def test_lost_verification_is_reported_as_a_possible_second_billed_verification(
        self, server: FakeKycaid, backend: None, applicant: Applicant, time_machine: Any
    ) -> None:
        """KYCAID documents no way to find a verification but by its id: the retry creates (and KYCAID
        bills) a second one, and the audit trail says so."""
        verification = self.retried_after_a_lost_answer(server, applicant, time_machine, "/verifications")
        assert len(server.verifications) == 2
        assert verification.provider_verification_id in server.verifications
        assert self.reported(verification) == ["POST /verifications"]
        assert (server.applicant_count(), len(server.documents), len(server.files)) == (1, 1, 1)

    @pytest.mark.django_db
    def test_lost_document_is_found_again_through_the_applicant(
        self, server: FakeKycaid, backend: None, applicant: Applicant, time_machine: Any
    ) -> None:
        """The applicant lists its documents and each shows its file ids: the retry recognises the document
        the lost call created by the files uploaded for it, and creates no second one."""
        verification = self.retried_after_a_lost_answer(server, applicant, time_machine, "/documents")
        (document,) = Document.objects.filter(applicant=applicant)
        (kycaid_id,) = server.documents
        assert document.provider_document_id == kycaid_id
        assert verification.provider_data["kycaid_documents"] == {str(document.pk): kycaid_id}
        assert self.reported(verification) == []
        assert len(server.verifications) == 1

    @pytest.mark.django_db
    def test_lost_file_upload_is_reported(
        self, server: FakeKycaid, backend: None, applicant: Applicant, time_machine: Any
    ) -> None:
        verification = self.retried_after_a_lost_answer(server, applicant, time_machine, "/files")
        assert len(server.files) == 2  # one never attached to anything
        assert self.reported(verification) == ["POST /files"]

    # --- signatures ------------------------------------------------------------------------------------
    @pytest.mark.django_db
    def test_the_old_token_alone_is_refused_after_rotation(
        self,
        server: FakeKycaid,
        options: dict[str, Any],
        applicant: Applicant,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        server.extra_tokens.append(NEW_TOKEN)
        with self.configured({**options, "API_TOKEN": NEW_TOKEN}):
            verification = self.start(applicant)
            submission.submit_verification(verification.pk)
            verification.refresh_from_db()
            server.decide(self.ref(verification), "approved")
            assert self.deliver(django_capture_on_commit_callbacks, server, self.ref(verification)).status_code == 403

    # --- submission ------------------------------------------------------------------------------------
    @pytest.mark.django_db
    def test_submission_sends_kycaid_request_shapes(
        self, server: FakeKycaid, backend: None, applicant: Applicant
    ) -> None:
        id_card = Document.objects.create(
            applicant=applicant, type="id_card", number="ID-778", issue_date="2020-11-04", expiry_date="2030-11-04"
        )
        for side in ("back", "front"):
            row = DocumentFile(document=id_card, side=side, sha256="1" * 64, content_type="image/png", size=10)
            row.file.save(f"{side}.png", io.BytesIO(make_png()), save=False)
            row.save()
        applicant.nationality, applicant.country, applicant.phone = "gb", "de", "+441234567890"
        applicant.save()
        verification = self.start(applicant)
        submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert verification.status == V.PROCESSING, verification.last_error

        [person] = server.applicants.values()
        assert person["type"] == "PERSON"
        assert (person["first_name"], person["last_name"], person["dob"]) == ("Jane", "Smith", "1990-02-03")
        assert (person["nationality"], person["residence_country"]) == ("GB", "DE")
        assert (person["email"], person["phone"]) == ("jane@example.com", "+441234567890")
        assert person["external_applicant_id"] == applicant.reference
        assert person["middle_name"] is None  # blanks are left out, not sent empty
        assert verification.provider_applicant_id == person["applicant_id"]

        assert len(server.files) == 3
        assert all(f["content_type"] == "image/png" and f["size"] > 0 for f in server.files.values())
        assert {f["filename"] for f in server.files.values()} == {"single.png", "front.png", "back.png"}
        # stored encrypted, sent as the image itself: the provider gets the plaintext
        assert {f["sha256"] for f in server.files.values()} == {hashlib.sha256(make_png()).hexdigest()}
        by_type = {doc["type"]: doc for doc in server.documents.values()}
        assert set(by_type) == {"PASSPORT", "GOVERNMENT_ID"}
        passport, card = by_type["PASSPORT"], by_type["GOVERNMENT_ID"]
        assert passport["document_number"] == "X1234567"
        assert passport["back_side_id"] is None
        assert server.files[passport["front_side_id"]]["filename"] == "single.png"
        assert server.files[card["front_side_id"]]["filename"] == "front.png"
        assert server.files[card["back_side_id"]]["filename"] == "back.png"
        assert (card["issue_date"], card["expiry_date"]) == ("2020-11-04", "2030-11-04")
        for document in Document.objects.filter(applicant=applicant):
            assert server.documents[document.provider_document_id]["applicant_id"] == person["applicant_id"]
            assert document.status == D.SUBMITTED

        [kycaid_verification] = server.verifications.values()
        assert kycaid_verification["verification_id"] == verification.provider_verification_id
        assert len(verification.provider_verification_id) == 36
        assert (kycaid_verification["applicant_id"], kycaid_verification["form_id"]) == (
            person["applicant_id"],
            FORM_ID,
        )
        assert kycaid_verification["callback_url"] == CALLBACK
        assert set(verification.provider_data["kycaid_files"].values()) == set(server.files)
        assert set(verification.provider_data["kycaid_documents"].values()) == set(server.documents)

    @pytest.mark.django_db
    def test_a_failure_after_documents_reuses_every_kycaid_object(
        self, server: FakeKycaid, backend: None, applicant: Applicant, time_machine: Any
    ) -> None:
        from django.utils import timezone

        time_machine.move_to(timezone.now(), tick=False)
        real = server.create_verification
        server.create_verification = lambda request: server.error(503, "maintenance")  # type: ignore[method-assign]
        verification = self.start(applicant)
        submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert (verification.status, len(server.files), len(server.documents)) == (V.PENDING, 1, 1)
        assert "maintenance" in verification.last_error

        server.create_verification = real  # type: ignore[method-assign]
        time_machine.move_to(verification.next_attempt_at, tick=False)
        submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert verification.status == V.PROCESSING
        assert (server.applicant_count(), len(server.files), len(server.documents), len(server.verifications)) == (
            1,
            1,
            1,
            1,
        )
        assert [m for m, p in server.calls].count("POST") == 5  # applicant, file, document, 503, verification

    @pytest.mark.django_db
    def test_validation_error_is_stored_as_a_readable_message(
        self, server: FakeKycaid, backend: None, make_applicant: Any
    ) -> None:
        nameless = nameless_applicant(make_applicant)
        verification = self.start(nameless)
        submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert verification.status == V.ERROR
        assert "first_name: First name is required" in verification.last_error
        assert "last_name: Last name is required" in verification.last_error
        assert "HTTP 422" in verification.last_error

    def test_secrets_and_personal_data_are_never_logged(
        self, server: FakeKycaid, options: dict[str, Any], applicant: Applicant, make_applicant: Any
    ) -> None:
        records: list[logging.LogRecord] = []
        handler = logging.Handler(logging.DEBUG)
        handler.emit = records.append  # type: ignore[method-assign]
        logger = logging.getLogger("django_kyc")
        logger.addHandler(handler)
        previous = logger.level
        logger.setLevel(logging.DEBUG)
        try:
            with self.configured(options):
                verification = self.start(applicant)
                submission.submit_verification(verification.pk)
                verification.refresh_from_db()
                get_backend(ALIAS).fetch_verification(verification)
            with self.configured(self.wrong_credentials(options)):
                other = make_applicant(email="jane@example.com", date_of_birth="1990-02-03")
                submission.submit_verification(self.start(other).pk)
        finally:
            logger.removeHandler(handler)
            logger.setLevel(previous)
        assert records  # the http client did log the calls
        for record in records:
            text = record.getMessage()
            for secret in (TOKEN, "not-the-kycaid-token", "Jane", "Smith", "jane@example.com", "1990-02-03"):
                assert secret not in text, text

    @pytest.mark.django_db
    def test_reverification_reuses_the_kycaid_applicant(
        self,
        server: FakeKycaid,
        submitted: Verification,
        applicant: Applicant,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        server.decide(self.ref(submitted), "declined")
        assert self.deliver(django_capture_on_commit_callbacks, server, self.ref(submitted)).status_code == 200
        applicant.first_name = "Janet"
        applicant.save()
        second = self.start(applicant)
        submission.submit_verification(second.pk)
        second.refresh_from_db()
        assert second.status == V.PROCESSING, second.last_error
        assert second.provider_applicant_id == submitted.provider_applicant_id
        assert server.applicant_count() == 1
        assert server.applicants[second.provider_applicant_id]["first_name"] == "Janet"  # PATCHed
        assert ("PATCH", f"/applicants/{second.provider_applicant_id}") in server.calls
        assert len(server.documents) == 1  # the passport is already there (and was rejected): not re-sent
        assert len(server.verifications) == 2

    # --- callbacks -------------------------------------------------------------------------------------
    @pytest.mark.django_db
    def test_per_check_results_and_document_decisions_are_kept(
        self, server: FakeKycaid, submitted: Verification, django_capture_on_commit_callbacks: Any
    ) -> None:
        server.decide(self.ref(submitted), "declined", reasons=["FAKE_DOCUMENT", "EDITED_DOCUMENT"])
        assert self.deliver(django_capture_on_commit_callbacks, server, self.ref(submitted)).status_code == 200
        submitted.refresh_from_db()
        assert submitted.status == V.DECLINED
        assert submitted.provider_status == "completed (verified=false)"
        assert submitted.reasons == ["FAKE_DOCUMENT", "EDITED_DOCUMENT"]
        kycaid = submitted.provider_data["kycaid"]
        assert kycaid["verifications"]["profile"] == {"verified": True, "comment": "", "decline_reasons": []}
        assert kycaid["verifications"]["document"]["verified"] is False
        assert kycaid["verifications"]["document"]["decline_reasons"] == ["FAKE_DOCUMENT", "EDITED_DOCUMENT"]
        assert kycaid["profile_status"] == "valid"
        # the same reasons in our reviewer catalogue's codes (django_kyc.reasons), next to KYCAID's own
        assert kycaid["reason_codes"] == ["SUSPECTED_FRAUD", "DOCUMENT_EDITED"]
        assert "Jane" not in json.dumps(submitted.provider_data)  # person data is not copied into provider_data
        [document] = Document.objects.filter(applicant=submitted.applicant)
        assert (document.status, document.reasons) == (D.REJECTED, ["FAKE_DOCUMENT", "EDITED_DOCUMENT"])

    @pytest.mark.django_db
    def test_quality_decline_requests_resubmission_of_the_document(
        self, server: FakeKycaid, submitted: Verification, django_capture_on_commit_callbacks: Any
    ) -> None:
        server.decide(self.ref(submitted), "declined_quality", reasons=["BAD_QUALITY", "NO_SELFIE"])
        assert self.deliver(django_capture_on_commit_callbacks, server, self.ref(submitted)).status_code == 200
        submitted.refresh_from_db()
        assert (submitted.status, submitted.reasons) == (V.RESUBMISSION_REQUESTED, ["BAD_QUALITY", "NO_SELFIE"])
        [document] = Document.objects.filter(applicant=submitted.applicant)
        assert (document.status, document.reasons) == (D.RESUBMISSION_REQUESTED, ["BAD_QUALITY", "NO_SELFIE"])
        # the person resubmits and KYCAID approves: the decision lands
        server.decide(self.ref(submitted), "approved")
        assert self.deliver(django_capture_on_commit_callbacks, server, self.ref(submitted)).status_code == 200
        submitted.refresh_from_db()
        assert submitted.status == V.APPROVED

    @pytest.mark.django_db
    def test_a_decline_mixing_quality_and_other_reasons_is_a_decline(
        self, server: FakeKycaid, submitted: Verification, django_capture_on_commit_callbacks: Any
    ) -> None:
        server.decide(self.ref(submitted), "declined", reasons=["BAD_QUALITY", "FAKE_DOCUMENT"])
        assert self.deliver(django_capture_on_commit_callbacks, server, self.ref(submitted)).status_code == 200
        submitted.refresh_from_db()
        assert submitted.status == V.DECLINED

    @pytest.mark.django_db
    def test_unknown_callback_type_fetches_the_verification(
        self, server: FakeKycaid, submitted: Verification, django_capture_on_commit_callbacks: Any
    ) -> None:
        server.decide(self.ref(submitted), "approved")
        body = json.dumps(
            {"type": "APPLICANT_UPDATED", "request_id": "a" * 36, "verification_id": self.ref(submitted)}
        ).encode()
        headers = {"x-data-integrity": sign(body, TOKEN)}
        assert self.post(django_capture_on_commit_callbacks, body, headers).status_code == 200
        submitted.refresh_from_db()
        assert submitted.status == V.APPROVED
        assert ("GET", f"/verifications/{self.ref(submitted)}") in server.calls
        [document] = Document.objects.filter(applicant=submitted.applicant)
        assert document.status == D.ACCEPTED

    @pytest.mark.django_db
    def test_callback_without_verification_is_acknowledged_and_ignored(self, backend: None) -> None:
        body = json.dumps({"type": "APPLICANT_CREATED", "request_id": "b" * 36}).encode()
        response = Client().post(
            f"/kyc/webhooks/{ALIAS}/",
            data=body,
            content_type="application/json",
            headers={"x-data-integrity": sign(body, TOKEN)},
        )
        assert response.status_code == 200
        assert not WebhookEvent.objects.exists()

    # --- polling ---------------------------------------------------------------------------------------
    @pytest.mark.django_db
    def test_polling_reads_the_verification_and_the_applicants_documents(
        self, server: FakeKycaid, submitted: Verification
    ) -> None:
        state = get_backend(ALIAS).fetch_verification(submitted)
        assert (state.status, state.provider_status) == (V.PROCESSING, "pending")
        server.decide(self.ref(submitted), "approved")
        polling.poll_verification(submitted.pk)
        submitted.refresh_from_db()
        assert submitted.status == V.APPROVED
        assert submitted.provider_data["kycaid"]["verifications"]["document"]["verified"] is True
        [document] = Document.objects.filter(applicant=submitted.applicant)
        assert document.status == D.ACCEPTED
        assert ("GET", f"/applicants/{submitted.provider_applicant_id}") in server.calls

    # --- documents CRUD --------------------------------------------------------------------------------
    @pytest.mark.django_db
    def test_documents_get_update_delete(self, server: FakeKycaid, submitted: Verification) -> None:
        """The documents endpoints are the client's: a site reads, corrects or deletes one document at KYCAID,
        and what it reads reaches our document only through the transition service."""
        backend = get_backend(ALIAS)
        assert isinstance(backend, KycaidBackend)
        client = backend.client
        [document] = Document.objects.filter(applicant=submitted.applicant)
        provider_id = document.provider_document_id

        def synced() -> Document:
            result = backend.document_result(client.get_document(provider_id))
            state = ProviderState(submitted.status, submitted.provider_status, documents=[result])
            transitions.apply_provider_state(submitted.pk, state, Change.provider(ALIAS, Source.POLL))
            document.refresh_from_db()
            return document

        result = backend.document_result(client.get_document(provider_id))
        assert (result.status, result.provider_document_id) == (D.SUBMITTED, provider_id)
        assert result.fields["type"] == "passport"
        assert result.fields["number"] == "X1234567"

        server.documents[provider_id].update(status="invalid", decline_reasons=[], decline_reasons_ids=[7, 26])
        assert (synced().status, document.reasons) == (D.REJECTED, ["BAD_QUALITY", "DOCUMENT_INCOMPLETE"])
        server.documents[provider_id].update(status="valid", decline_reasons=[], decline_reasons_ids=None)
        assert synced().status == D.ACCEPTED

        document.number, document.expiry_date = "X7654321", date(2031, 1, 31)
        document.save()
        fields = {
            "type": backend.document_type(document.type),
            **document_fields(document),
            "issuing_authority": "HMPO",
        }
        assert client.update_document(provider_id, fields) == provider_id
        stored = server.documents[provider_id]
        assert (stored["document_number"], stored["expiry_date"], stored["issuing_authority"]) == (
            "X7654321",
            "2031-01-31",
            "HMPO",
        )
        assert stored["type"] == "PASSPORT"
        assert ("PATCH", f"/documents/{provider_id}") in server.calls

        client.delete_document(provider_id)
        assert provider_id not in server.documents
        assert ("DELETE", f"/documents/{provider_id}") in server.calls
        with pytest.raises(PermanentProviderError, match="Document not found"):
            client.get_document(provider_id)
        with pytest.raises(PermanentProviderError, match="never sent to KYCAID"):
            client.get_document("")

    @pytest.mark.django_db
    def test_document_types_can_be_overridden_or_skipped(
        self, server: FakeKycaid, options: dict[str, Any], applicant: Applicant
    ) -> None:
        Document.objects.create(applicant=applicant, type="other")
        Document.objects.create(applicant=applicant, type="residence_permit")
        with self.configured({**options, "DOCUMENT_TYPES": {"residence_permit": "PASSPORT"}}):
            verification = self.start(applicant)
            submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert verification.status == V.PROCESSING, verification.last_error
        assert sorted(doc["type"] for doc in server.documents.values()) == ["PASSPORT", "PASSPORT"]
        other = Document.objects.get(applicant=applicant, type="other")
        assert verification.provider_data["kycaid_skipped_documents"] == [str(other.pk)]

    # --- configuration ---------------------------------------------------------------------------------
    @pytest.mark.parametrize(
        ("options", "key"),
        [
            ({"API_TOKEN": ["a", "b"], "FORM_ID": "f"}, "API_TOKEN"),
            ({"API_TOKEN": "t", "FORM_ID": "f", "MODE": "websdk"}, "MODE"),
            ({"API_TOKEN": "t", "FORM_ID": "f", "DECLINE_POLICY": "maybe"}, "DECLINE_POLICY"),
            ({"API_TOKEN": "t", "FORM_ID": "f", "CALLBACK_URL": "/kyc/webhooks/kycaid/"}, "CALLBACK_URL"),
            ({"API_TOKEN": "t"}, "FORM_ID"),
            ({"FORM_ID": "f"}, "API_TOKEN"),
        ],
    )
    def test_misconfiguration_names_the_key(self, options: dict[str, Any], key: str) -> None:
        with pytest.raises(KycConfigurationError, match=f'\\["{key}"\\]'):
            KycaidBackend("bad", options)

    def test_capabilities_follow_the_mode(self) -> None:
        api = KycaidBackend("api", {"API_TOKEN": "t", "FORM_ID": "f"})
        form = KycaidBackend("form", {"API_TOKEN": "t", "FORM_ID": "f", "MODE": "form"})
        assert api.supports("document_upload")
        assert not api.supports("hosted_flow")
        assert form.supports("hosted_flow")
        assert not form.supports("document_upload")
        for backend in (api, form):
            assert backend.supports("polling")
            assert backend.supports("webhooks")
            assert not backend.supports("aml")
            assert not backend.supports("delete")
        assert set(KycaidBackend.secret_options) == {"API_TOKEN", "WEBHOOK_TOKENS"}

    @pytest.mark.django_db
    def test_api_mode_has_no_client_link(self, submitted: Verification) -> None:
        with pytest.raises(UnsupportedFeature):
            get_backend(ALIAS).issue_client_token(submitted)
