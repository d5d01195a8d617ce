"""Onfido's API v3.6 over the shared HTTP client: the region hosts, authentication, the error body and one method
per endpoint the backend uses.

Every call carries ``Authorization: Token token=<api token>``. Answers are plain JSON (objects, except
``GET /workflow_runs``, a bare array); errors are ``{"error": {"type", "message", "fields"}}`` on every
endpoint. The endpoints and fields are listed in ``docs/providers/onfido.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django_kyc.backends.http import ProviderHttpClient, error_message_from
from django_kyc.backends.parsing import mapping, text
from django_kyc.exceptions import PermanentProviderError

PROVIDER = "onfido"
#: Onfido's regions; the API host is ``api.<region>.onfido.com`` and each region holds its own data.
REGIONS = ("eu", "us", "ca")
API_VERSION = "v3.6"


def region_url(region: str) -> str:
    """The API root of a region (``https://api.eu.onfido.com/v3.6``)."""
    return f"https://api.{region}.onfido.com/{API_VERSION}"


def _error(payload: Any) -> str:
    """``{"error": {"type", "message", "fields"}}`` as ``validation_error: <message> (type: <field messages>)``.

    ``fields`` maps a field name to Onfido's messages about it; only names and Onfido's messages are read, never
    the values we sent (personal data), so the text is safe to store in ``last_error``.
    """
    error = mapping(mapping(payload).get("error"))
    message = text(error.get("message")).strip()
    kind = text(error.get("type")).strip()
    details = []
    for name, problems in list(mapping(error.get("fields")).items())[:10]:
        said = problems if isinstance(problems, list) else [problems]
        words = "; ".join(str(item) for item in said[:5] if isinstance(item, str | int | float))
        details.append(f"{name}: {words}" if words else str(name))
    if details:
        message = f"{message} ({', '.join(details)})" if message else ", ".join(details)
    return f"{kind}: {message}" if kind and message else message or kind


onfido_error_message = error_message_from(_error)


class OnfidoClient(ProviderHttpClient):
    """One method per Onfido endpoint the backend uses; ids in, JSON out."""

    def __init__(self, **kwargs: Any) -> None:
        # a 2xx that is not JSON is Onfido's answer, not a proxy's page: asking again gets the same
        kwargs.setdefault("not_json", PermanentProviderError)
        super().__init__(**kwargs)

    def created_id(self, payload: Mapping[str, Any], what: str) -> str:
        found = text(payload.get("id"))
        if not found:
            raise PermanentProviderError(f"Onfido answered the {what} call without an id", provider=self.provider)
        return found

    # --- applicants ----------------------------------------------------------------------------------
    def create_applicant(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self.json("POST", "/applicants", json=dict(fields)))

    def get_applicant(self, applicant_id: str) -> dict[str, Any]:
        return dict(self.json("GET", f"/applicants/{applicant_id}"))

    def list_applicants(self, *, page: int = 1, per_page: int = 100) -> list[dict[str, Any]]:
        answer = self.json("GET", "/applicants", params={"page": page, "per_page": per_page})
        return [item for item in answer.get("applicants") or [] if isinstance(item, dict)]

    def delete_applicant(self, applicant_id: str) -> None:
        """``DELETE /applicants/{id}``: Onfido schedules the applicant for deletion (see ``restore_applicant``)."""
        self.delete(f"/applicants/{applicant_id}")

    def restore_applicant(self, applicant_id: str) -> None:
        """``POST /applicants/{id}/restore``: undo a scheduled deletion."""
        self.post(f"/applicants/{applicant_id}/restore")

    # --- documents -----------------------------------------------------------------------------------
    def upload_document(self, fields: Mapping[str, str], name: str, content: bytes, content_type: str) -> str:
        """``POST /documents`` as ``multipart/form-data``: the form ``fields`` and the ``file`` part."""
        payload = self.json("POST", "/documents", data=dict(fields), files={"file": (name, content, content_type)})
        return self.created_id(payload, "document upload")

    def list_documents(self, applicant_id: str) -> list[dict[str, Any]]:
        answer = self.json("GET", "/documents", params={"applicant_id": applicant_id})
        return [item for item in answer.get("documents") or [] if isinstance(item, dict)]

    # --- classic checks ------------------------------------------------------------------------------
    def create_check(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self.json("POST", "/checks", json=dict(payload)))

    def get_check(self, check_id: str) -> dict[str, Any]:
        return dict(self.json("GET", f"/checks/{check_id}"))

    def list_checks(self, applicant_id: str) -> list[dict[str, Any]]:
        answer = self.json("GET", "/checks", params={"applicant_id": applicant_id})
        return [item for item in answer.get("checks") or [] if isinstance(item, dict)]

    def list_reports(self, check_id: str) -> list[dict[str, Any]]:
        answer = self.json("GET", "/reports", params={"check_id": check_id})
        return [item for item in answer.get("reports") or [] if isinstance(item, dict)]

    def sdk_token(self, applicant_id: str, *, referrer: str = "") -> str:
        """``POST /sdk_token`` (answers 200, not 201): a token for Onfido's classic SDKs."""
        payload: dict[str, Any] = {"applicant_id": applicant_id}
        if referrer:
            payload["referrer"] = referrer
        token = text(self.json("POST", "/sdk_token", json=payload).get("token"))
        if not token:
            raise PermanentProviderError("Onfido answered the SDK token call without a token", provider=self.provider)
        return token

    # --- Studio workflow runs ------------------------------------------------------------------------
    def create_workflow_run(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self.json("POST", "/workflow_runs", json=dict(payload)))

    def get_workflow_run(self, run_id: str) -> dict[str, Any]:
        return dict(self.json("GET", f"/workflow_runs/{run_id}"))

    def list_workflow_runs(self, applicant_id: str, tags: Sequence[str] = ()) -> list[dict[str, Any]]:
        """``GET /workflow_runs`` answers a bare JSON array (every other list is wrapped in an object)."""
        params: dict[str, Any] = {"applicant_id": applicant_id}
        if tags:
            params["tags"] = list(tags)  # an array parameter: repeated, ``tags=a&tags=b``
        answer = self.json("GET", "/workflow_runs", params=params, expect=list)
        return [item for item in answer if isinstance(item, dict)]
