"""The fake KYCAID's records: applicants, files (multipart uploads) and documents, created, read, changed and
deleted as KYCAID's API does it."""

from __future__ import annotations

import copy
import email.policy
import hashlib
from email.parser import BytesParser
from typing import Any

from django_kyc.testing.kycaid.state import KycaidState
from django_kyc.testing.kycaid.validation import applicant_errors, document_errors
from django_kyc.testing.kycaid.vocabulary import APPLICANT_FIELDS, DOCUMENT_FIELDS, new_id, now
from django_kyc.testing.server import FakeRequest, FakeResponse


class KycaidRecords(KycaidState):
    """The applicant, file and document endpoints."""

    # --- applicants ----------------------------------------------------------------------------------
    def create_applicant(self, request: FakeRequest) -> FakeResponse:
        data = self.body(request)
        if isinstance(data, FakeResponse):
            return data
        errors = applicant_errors(data, creating=True)
        if errors:
            return self.invalid(errors)
        applicant_id = new_id()
        self.applicants[applicant_id] = {
            **{name: data.get(name) for name in APPLICANT_FIELDS},
            "applicant_id": applicant_id,
            "profile_status": None,
            "decline_reasons": [],
            "created_at": now(),
        }
        return FakeResponse(200, {"applicant_id": applicant_id})

    def get_applicant(self, request: FakeRequest) -> FakeResponse:
        applicant_id = request.params["applicant_id"]
        if applicant_id not in self.applicants:
            return self.error(404, "Applicant not found")
        return FakeResponse(200, self.applicant_view(applicant_id))

    def update_applicant(self, request: FakeRequest) -> FakeResponse:
        applicant_id = request.params["applicant_id"]
        if applicant_id not in self.applicants:
            return self.error(404, "Applicant not found")
        data = self.body(request)
        if isinstance(data, FakeResponse):
            return data
        errors = applicant_errors(data, creating=False)
        if errors:
            return self.invalid(errors)
        self.applicants[applicant_id].update({k: v for k, v in data.items() if k in APPLICANT_FIELDS})
        return FakeResponse(200, {"applicant_id": applicant_id})

    # --- files ---------------------------------------------------------------------------------------
    def _uploaded_file(self, request: FakeRequest) -> dict[str, Any] | None:
        content_type = request.header("Content-Type")
        if not content_type.startswith("multipart/form-data"):
            return None
        message = BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + request.body
        )
        if not message.is_multipart():
            return None
        for part in message.iter_parts():
            if part.get_param("name", header="content-disposition") == "file":
                content = part.get_payload(decode=True)
                if isinstance(content, bytes) and content:
                    return {
                        "filename": part.get_filename() or "",
                        "content_type": part.get_content_type(),
                        "size": len(content),
                        "sha256": hashlib.sha256(content).hexdigest(),
                    }
        return None

    def create_file(self, request: FakeRequest) -> FakeResponse:
        uploaded = self._uploaded_file(request)
        if uploaded is None:
            return self.invalid([("file", "File is required")])
        file_id = new_id()
        self.files[file_id] = {"file_id": file_id, **uploaded}
        return FakeResponse(200, {"file_id": file_id})

    def replace_file(self, request: FakeRequest) -> FakeResponse:
        file_id = request.params["file_id"]
        if file_id not in self.files:
            return self.error(404, "File not found")
        uploaded = self._uploaded_file(request)
        if uploaded is None:
            return self.invalid([("file", "File is required")])
        self.files[file_id].update(uploaded)
        return FakeResponse(200, {"file_id": file_id})

    # --- documents -----------------------------------------------------------------------------------
    def create_document(self, request: FakeRequest) -> FakeResponse:
        data = self.body(request)
        if isinstance(data, FakeResponse):
            return data
        errors = document_errors(data, creating=True, applicants=self.applicants, files=self.files)
        applicant_id = str(data.get("applicant_id") or "")
        existing = [d for d in self.documents.values() if d["applicant_id"] == applicant_id]
        has_verification = any(v["applicant_id"] == applicant_id for v in self.verifications.values())
        card_exists = any(d["type"] == "CREDIT_CARD" for d in existing)
        if data.get("type") == "CREDIT_CARD" and card_exists and not has_verification:
            errors.append(("type", "Only one CREDIT_CARD document may be added to an applicant"))
        if errors:
            return self.invalid(errors)
        if has_verification:
            # a document added after a verification exists replaces the earlier one of its type
            for doc in existing:
                if doc["type"] == data["type"]:
                    del self.documents[doc["document_id"]]
        document_id = new_id()
        self.documents[document_id] = {
            "document_id": document_id,
            "applicant_id": applicant_id,
            "provider": "MANUAL",
            "status": "new",
            "comment": None,
            **{name: data.get(name) for name in DOCUMENT_FIELDS},
            "portrait": None,
            "created_at": now(),
            "decline_reasons_ids": None,
            "decline_reasons": [],
        }
        return FakeResponse(200, {"document_id": document_id})

    def get_document(self, request: FakeRequest) -> FakeResponse:
        document = self.documents.get(request.params["document_id"])
        if document is None:
            return self.error(404, "Document not found")
        return FakeResponse(200, copy.deepcopy(document))

    def update_document(self, request: FakeRequest) -> FakeResponse:
        document_id = request.params["document_id"]
        if document_id not in self.documents:
            return self.error(404, "Document not found")
        data = self.body(request)
        if isinstance(data, FakeResponse):
            return data
        errors = document_errors(data, creating=False, applicants=self.applicants, files=self.files)
        if errors:
            return self.invalid(errors)
        self.documents[document_id].update({k: v for k, v in data.items() if k in DOCUMENT_FIELDS})
        return FakeResponse(200, {"document_id": document_id})

    def delete_document(self, request: FakeRequest) -> FakeResponse:
        document_id = request.params["document_id"]
        if self.documents.pop(document_id, None) is None:
            return self.error(404, "Document not found")
        return FakeResponse(200, {"document_id": document_id})
