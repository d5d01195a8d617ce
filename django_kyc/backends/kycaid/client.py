"""KYCAID's API 2.0 over the shared HTTP client: authentication, error messages and one method per endpoint.

Every call carries ``Authorization: Token <API_TOKEN>``; answers are plain JSON objects (no envelope), and a
2xx body that is not one is a permanent error: KYCAID answered, and asking again gets the same answer. The
endpoints and fields are described in ``docs/providers/kycaid.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django_kyc.backends.http import ProviderHttpClient, error_message_from
from django_kyc.exceptions import PermanentProviderError

DEFAULT_BASE_URL = "https://api.kycaid.com/"


def _validation_errors(payload: Any) -> str:
    """``{"type": "validation", "errors": [{"parameter", "message"}]}`` as ``validation error: dob: …; …``.

    Only the parameter names and KYCAID's messages are used, never the values we sent (they are personal
    data), so the result is safe to store in ``last_error`` and to log.
    """
    errors = payload.get("errors") if isinstance(payload, Mapping) else None
    if not isinstance(errors, list):
        return ""
    parts = []
    for item in errors[:10]:
        if isinstance(item, Mapping):
            parameter = str(item.get("parameter") or "").strip()
            message = str(item.get("message") or "").strip()
            parts.append(f"{parameter}: {message}" if parameter and message else message or parameter)
        elif item:
            parts.append(str(item))
    text = "; ".join(part for part in parts if part)
    kind = str(payload.get("type") or "").strip()
    return f"{kind} error: {text}" if text and kind else text


#: KYCAID's validation body first, then the usual single-message shapes, else the HTTP reason.
kycaid_error_message = error_message_from(_validation_errors, "message", "error", "detail", "errors")


class KycaidClient(ProviderHttpClient):
    """One method per KYCAID endpoint the backend (or a site, for documents) uses; ids in, JSON out."""

    def __init__(self, *, update_method: str = "PATCH", **kwargs: Any) -> None:
        kwargs.setdefault("not_json", PermanentProviderError)
        super().__init__(**kwargs)
        #: The verb of "Update a document", which KYCAID's reference does not state.
        self.update_method = update_method.upper()

    def created_id(self, payload: Mapping[str, Any], *keys: str) -> str:
        """The id a create call answered with (the first of ``keys`` present)."""
        for key in keys:
            if payload.get(key):
                return str(payload[key])
        raise PermanentProviderError(f"KYCAID answered without {keys[0]}", provider=self.provider)

    # --- applicants ----------------------------------------------------------------------------------
    def create_applicant(self, fields: Mapping[str, Any]) -> str:
        return self.created_id(self.json("POST", "/applicants", json=dict(fields)), "applicant_id")

    def get_applicant(self, applicant_id: str) -> dict[str, Any]:
        """The applicant with its ``documents`` (each with status and decline reasons)."""
        return dict(self.json("GET", f"/applicants/{applicant_id}"))

    def update_applicant(self, applicant_id: str, fields: Mapping[str, Any]) -> None:
        self.patch(f"/applicants/{applicant_id}", json=dict(fields))

    # --- files and documents -------------------------------------------------------------------------
    def upload_file(self, name: str, content: bytes, content_type: str) -> str:
        """``POST /files`` (multipart field ``file``); the id is read from ``file_id``, else ``id``."""
        payload = self.json("POST", "/files", files={"file": (name, content, content_type)})
        return self.created_id(payload, "file_id", "id")

    def create_document(self, payload: Mapping[str, Any]) -> str:
        return self.created_id(self.json("POST", "/documents", json=dict(payload)), "document_id")

    def get_document(self, document_id: str) -> dict[str, Any]:
        return dict(self.json("GET", self._document_path(document_id)))

    def update_document(self, document_id: str, fields: Mapping[str, Any]) -> str:
        """Send new field values for a document (verb: :attr:`update_method`)."""
        path = self._document_path(document_id)
        return self.created_id(self.json(self.update_method, path, json=dict(fields)), "document_id")

    def delete_document(self, document_id: str) -> None:
        self.delete(self._document_path(document_id))

    def _document_path(self, document_id: str) -> str:
        if not document_id:
            raise PermanentProviderError("document was never sent to KYCAID", provider=self.provider)
        return f"/documents/{document_id}"

    # --- verifications and forms ---------------------------------------------------------------------
    def create_verification(self, payload: Mapping[str, Any]) -> str:
        return self.created_id(self.json("POST", "/verifications", json=dict(payload)), "verification_id")

    def get_verification(self, verification_id: str) -> dict[str, Any]:
        return dict(self.json("GET", f"/verifications/{verification_id}"))

    def create_form_url(self, form_id: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /forms/{form_id}/urls``: a one-time ``form_url`` and a new, unused verification."""
        return dict(self.json("POST", f"/forms/{form_id}/urls", json=dict(payload)))
