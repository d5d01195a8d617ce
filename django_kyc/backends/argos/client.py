"""ARGOS's REST API (``/v3``, header ``x-api-key``): one wrapper per endpoint, ARGOS's error bodies, and its
encrypted answers decoded in the client's ``decode`` hook. Endpoints and error shapes: ``docs/providers/argos.md``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests

from django_kyc.backends.argos.crypto import open_json, seal_json
from django_kyc.backends.http import MESSAGE_LIMIT, ProviderHttpClient, error_message_from
from django_kyc.backends.parsing import mapping
from django_kyc.exceptions import PermanentProviderError, TransientProviderError

#: ARGOS's body error codes → what they mean for whoever reads ``last_error``.
ERROR_CODES: Mapping[str, str] = {
    "invalid_payload": "ARGOS could not parse the request body",
    "missing_data": "a required field is missing from the request",
    "invalid_project": "the project is not valid for this API key (check PROJECT_ID and API_KEY)",
    "invalid_admin": "the ADMIN account is not an administrator of this ARGOS project",
    "invalid_parameter": "the request has a parameter ARGOS does not accept",
    "invalid_format": "a request parameter has the wrong format",
    "processing_error": "ARGOS failed to process the request",
}
FORBIDDEN_HINT = " (check API_KEY, and that ARGOS's IP allow-list admits this server)"


def describe_error(payload: Any) -> str:
    """ARGOS's error bodies differ per endpoint: ``{"errorCode": "invalid_payload"}``, ``{"message": "not Exist
    Submission ID", "statusCode": 400}``, API Gateway's ``{"message": "Forbidden"}``. Known codes get a
    plain-language explanation next to them; the vendor's own words are kept."""
    body = mapping(payload)
    code = str(body.get("errorCode") or "").strip()
    message = str(body.get("message") or body.get("Message") or "").strip()
    parts = []
    if code:
        parts.append(f"{code}: {ERROR_CODES[code]}" if code in ERROR_CODES else code)
    if message and message != code:
        parts.append(message)
    return " — ".join(parts)


_error_message = error_message_from(describe_error)


def argos_error_message(response: requests.Response) -> str:
    """The client's error message: :func:`describe_error`, and on a 403 where to look."""
    text = _error_message(response)
    if response.status_code == 403:
        text += FORBIDDEN_HINT
    return text[:MESSAGE_LIMIT]


class ArgosClient(ProviderHttpClient):
    """The shared client with ARGOS's encryption: answers flagged ``isEncrypted`` are decrypted (whatever the
    ``ENCRYPTION`` option says), request bodies are encrypted when ``encrypt_bodies``."""

    def __init__(self, *, key: bytes, encrypt_bodies: bool = False, page_size: int = 50, **kwargs: Any) -> None:
        # as the backend always had it: a listing page of another shape is asked for again, not given up on
        kwargs.setdefault("wrong_type", TransientProviderError)
        super().__init__(**kwargs)
        self.key = key
        self.encrypt_bodies = encrypt_bodies
        self.page_size = page_size

    def decode(self, response: requests.Response, expect: type | tuple[type, ...] | None = dict) -> Any:
        """The answer as JSON, decrypted when ARGOS flags it ``isEncrypted``; an ``errorCode`` in a 2xx body is
        still an error."""
        payload = super().decode(response, None)
        if isinstance(payload, Mapping) and payload.get("isEncrypted") and isinstance(payload.get("data"), str):
            try:
                payload = open_json(self.key, payload["data"])
            except ValueError as exc:
                raise PermanentProviderError(
                    "could not decrypt ARGOS's answer: check API_KEY / SECRET_KEY", provider=self.provider
                ) from exc
        if isinstance(payload, Mapping) and payload.get("errorCode"):
            raise PermanentProviderError(describe_error(payload)[:MESSAGE_LIMIT], provider=self.provider)
        call = f"{response.request.method} {urlsplit(response.url).path}" if response.request else "the call"
        return self.check_type(payload, expect, call)

    def body(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """A request body; when encrypting, the whole object travels encrypted as ``body``."""
        return {"body": seal_json(self.key, dict(payload))} if self.encrypt_bodies else dict(payload)

    # --- submissions ---------------------------------------------------------------------------------
    def iter_submissions(self, **query: Any) -> Iterator[dict[str, Any]]:
        """``GET /submission`` with ``userid`` / ``email`` / ``submission_id`` / ``start_date`` / ``end_date`` /
        ``request_type``, walking **every** page: ``nextpageKey {id, created_at}`` comes back as ``nextpage_id`` /
        ``nextpage_date`` until ARGOS sends no key."""
        params = {name: value for name, value in query.items() if value not in (None, "")}
        params["count"] = self.page_size
        seen: set[tuple[str, str]] = set()
        while True:
            page = self.json("GET", "submission", params=params)
            for item in page.get("Items") or []:
                if isinstance(item, dict):
                    yield item
            key = page.get("nextpageKey")
            if not isinstance(key, Mapping) or not key.get("id"):
                return
            marker = (str(key.get("id")), str(key.get("created_at") or ""))
            if marker in seen:  # a provider bug must not become an endless loop
                raise TransientProviderError("GET /submission repeated a page key", provider=self.provider)
            seen.add(marker)
            params["nextpage_id"], params["nextpage_date"] = marker

    def get_submission(self, submission_id: str, request_type: str = "") -> dict[str, Any]:
        """One submission by ``submission_id``; a permanent error if ARGOS has none."""
        for item in self.iter_submissions(submission_id=submission_id, request_type=request_type):
            if str(item.get("submission_id")) == submission_id:
                return item
        raise PermanentProviderError(f"ARGOS has no submission {submission_id}", provider=self.provider)

    def review(self, admin: str, submission_id: str, status: str, reject_comment: str = "") -> Any:
        """``POST /submission/review``: a client reviewer's decision on a ``pending`` submission."""
        body = {"admin": admin, "submissionId": submission_id, "status": status}
        if reject_comment:
            body["rejectComment"] = reject_comment
        return self.json("POST", "submission/review", json=self.body(body), expect=None)

    def delete_submission(self, submission_id: str, admin_name: str = "") -> None:
        """``DELETE /submission``; with ``admin_name`` ARGOS sends a ``delete`` webhook."""
        params = {"submission_id": submission_id}
        if admin_name:
            params["admin_name"] = admin_name
        self.delete("submission", params=params)

    # --- AML -----------------------------------------------------------------------------------------
    def enrol(self, worklist: str, submission_id: str, admin: str) -> Any:
        """``POST /submission/aml/monitor/{worklistId}`` for one submission (the answer is read by
        :func:`~django_kyc.backends.argos.monitoring.read_enrolment`)."""
        body = {"submissionIds": [submission_id], "admin": admin}
        return self.json("POST", f"submission/aml/monitor/{worklist}", json=self.body(body), expect=None)

    def monitoring_record(self, worklist: str, record_id: str) -> Mapping[str, Any]:
        """``GET /submission/aml/monitor/{worklistId}/{recordId}``."""
        return mapping(self.json("GET", f"submission/aml/monitor/{worklist}/{record_id}", expect=None))

    def aml_report(self, resource_id: str) -> bytes:
        """``GET /report/aml?resourceId=``: the PDF ARGOS issues for a Red Flag match."""
        content = self.get("report/aml", params={"resourceId": resource_id}).content
        if not content.startswith(b"%PDF"):
            raise PermanentProviderError("ARGOS's AML report is not a PDF", provider=self.provider)
        return content
