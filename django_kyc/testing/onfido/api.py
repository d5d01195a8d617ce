"""The fake Onfido's classic endpoints: applicants (with scheduled deletion and restore), documents (multipart,
with Onfido's type and size rules), SDK tokens, checks and their reports."""

from __future__ import annotations

import copy
import email.policy
import re
from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone
from email.parser import BytesParser
from typing import Any

from django_kyc.testing.onfido.state import OnfidoState
from django_kyc.testing.onfido.vocabulary import (
    DOCUMENT_TYPES,
    FILE_SIGNATURES,
    FORBIDDEN_NAME_CHARACTERS,
    MAX_FILE_BYTES,
    MIN_FILE_BYTES,
    REPORT_NAMES,
    new_id,
    now,
    sdk_token,
)
from django_kyc.testing.server import FakeRequest, FakeResponse

APPLICANT_FIELDS = ("first_name", "last_name", "email", "dob", "phone_number", "id_numbers", "address", "location")
#: Days between ``DELETE /applicants/{id}`` and the purge (Onfido does not publish it; ``delete_at`` says).
DELETION_GRACE_DAYS = 30


class OnfidoRecords(OnfidoState):
    """Applicants, documents, SDK tokens, checks and reports."""

    # --- applicants ----------------------------------------------------------------------------------
    def create_applicant(self, request: FakeRequest) -> FakeResponse:
        data = self.body(request)
        if isinstance(data, FakeResponse):
            return data
        problems: dict[str, list[str]] = {}
        for name in ("first_name", "last_name"):
            value = data.get(name)
            if not isinstance(value, str) or not value.strip():
                problems[name] = ["can't be blank"]
            elif any(c in FORBIDDEN_NAME_CHARACTERS for c in value):
                problems[name] = [f"must not contain any of {FORBIDDEN_NAME_CHARACTERS}"]
        if data.get("dob") not in (None, ""):
            try:
                date.fromisoformat(str(data["dob"]))
            except ValueError:
                problems["dob"] = ["must be a date (YYYY-MM-DD)"]
        unknown = sorted(set(data) - set(APPLICANT_FIELDS) - {"consents"})
        for name in unknown:
            problems[name] = ["is not a permitted parameter"]
        if problems:
            return self.invalid(problems)
        applicant_id = new_id()
        self.applicants[applicant_id] = {
            "id": applicant_id,
            "created_at": now(),
            "delete_at": None,
            "href": f"/v3.6/applicants/{applicant_id}",
            "sandbox": True,
            **{name: data.get(name) for name in APPLICANT_FIELDS},
        }
        return FakeResponse(201, copy.deepcopy(self.applicants[applicant_id]))

    def get_applicant(self, request: FakeRequest) -> FakeResponse:
        applicant = self.applicants.get(request.params["applicant_id"])
        if applicant is None:
            return self.error(404, "Resource not found")
        return FakeResponse(200, copy.deepcopy(applicant))

    def list_applicants(self, request: FakeRequest) -> FakeResponse:
        """Newest first, ``page`` / ``per_page`` (default 1 / 20), scheduled deletions only when asked."""
        page = _positive(request, "page", 1)
        per_page = _positive(request, "per_page", 20)
        include_deleted = (request.query.get("include_deleted") or ["false"])[0] == "true"
        listed = [a for a in self.applicants.values() if include_deleted or not a["delete_at"]]
        listed.sort(key=lambda a: a["created_at"], reverse=True)
        chunk = listed[(page - 1) * per_page : page * per_page]
        return FakeResponse(200, {"applicants": copy.deepcopy(chunk)}, {"X-Total-Count": str(len(listed))})

    def delete_applicant(self, request: FakeRequest) -> FakeResponse:
        applicant = self.applicants.get(request.params["applicant_id"])
        if applicant is None:
            return self.error(404, "Resource not found")
        purge = datetime.now(dt_timezone.utc) + timedelta(days=DELETION_GRACE_DAYS)
        applicant["delete_at"] = purge.strftime("%Y-%m-%dT%H:%M:%SZ")
        return FakeResponse(204)

    def restore_applicant(self, request: FakeRequest) -> FakeResponse:
        applicant = self.applicants.get(request.params["applicant_id"])
        if applicant is None:
            return self.error(404, "Resource not found")
        if not applicant["delete_at"]:
            return self.error(422, "The applicant is not scheduled for deletion")
        applicant["delete_at"] = None
        return FakeResponse(204)

    def live_applicant(self, applicant_id: Any) -> dict[str, Any] | None:
        found = self.applicants.get(str(applicant_id or ""))
        return found if found is not None and not found["delete_at"] else None

    # --- documents -----------------------------------------------------------------------------------
    def upload_document(self, request: FakeRequest) -> FakeResponse:
        content_type = request.header("Content-Type")
        if not content_type.startswith("multipart/form-data"):
            return self.error(415, "Documents must be uploaded as multipart/form-data", kind="unsupported_media_type")
        form, upload = _multipart(content_type, request.body)
        problems: dict[str, list[str]] = {}
        applicant_id = form.get("applicant_id", "")
        if not applicant_id:
            problems["applicant_id"] = ["can't be blank"]
        elif self.live_applicant(applicant_id) is None:
            problems["applicant_id"] = ["not found"]
        if form.get("type") not in DOCUMENT_TYPES:
            problems["type"] = ["is not a valid document type"]
        if form.get("side") not in (None, "front", "back"):
            problems["side"] = ["must be front or back"]
        if upload is None:
            problems["file"] = ["can't be blank"]
        else:
            content = upload[1]
            kind = next((k for prefix, k in FILE_SIGNATURES.items() if content.startswith(prefix)), None)
            if kind is None:
                problems["file"] = ["The valid file types are: jpg, png and pdf"]
            elif not MIN_FILE_BYTES <= len(content) <= MAX_FILE_BYTES:
                problems["file"] = ["The file size must be between 2KB and 3MB"]
        if problems or upload is None:
            return self.invalid(problems)
        document_id = new_id()
        self.documents[document_id] = {
            "id": document_id,
            "applicant_id": applicant_id,
            "created_at": now(),
            "href": f"/v3.6/documents/{document_id}",
            "download_href": f"/v3.6/documents/{document_id}/download",
            "file_name": upload[0],
            "file_size": len(upload[1]),
            "file_type": kind,
            "type": form["type"],
            "side": form.get("side"),
            "issuing_country": form.get("issuing_country"),
        }
        return FakeResponse(201, copy.deepcopy(self.documents[document_id]))

    def list_documents(self, request: FakeRequest) -> FakeResponse:
        applicant_id = (request.query.get("applicant_id") or [""])[0]
        if not applicant_id:
            return self.invalid({"applicant_id": ["can't be blank"]})
        listed = [copy.deepcopy(d) for d in self.documents.values() if d["applicant_id"] == applicant_id]
        return FakeResponse(200, {"documents": listed})

    # --- webhooks ------------------------------------------------------------------------------------
    def register_webhook(self, request: FakeRequest) -> FakeResponse:
        """``POST /webhooks``: the answer's ``token`` signs every delivery to ``url``. Onfido requires https;
        the fake also takes http on loopback, where tests listen."""
        data = self.body(request)
        if isinstance(data, FakeResponse):
            return data
        url = str(data.get("url") or "")
        loopback = url.startswith(("http://127.0.0.1", "http://localhost"))
        if not (url.startswith("https://") or loopback):
            return self.invalid({"url": ["must be an https URL"]})
        events = data.get("events")
        if events is not None and not isinstance(events, list):
            return self.invalid({"events": ["must be a list of events"]})
        webhook_id = new_id()
        self.webhooks[webhook_id] = {
            "id": webhook_id,
            "url": url,
            "token": new_id().replace("-", ""),
            "enabled": data.get("enabled", True) is not False,
            "events": events,
            "href": f"/v3.6/webhooks/{webhook_id}",
        }
        return FakeResponse(201, copy.deepcopy(self.webhooks[webhook_id]))

    # --- SDK tokens ----------------------------------------------------------------------------------
    def create_sdk_token(self, request: FakeRequest) -> FakeResponse:
        data = self.body(request)
        if isinstance(data, FakeResponse):
            return data
        if self.live_applicant(data.get("applicant_id")) is None:
            return self.invalid({"applicant_id": ["not found"]})
        referrer = data.get("referrer")
        if referrer is not None and not re.fullmatch(r"[^\s]+", str(referrer)):
            return self.invalid({"referrer": ["is not a valid URL pattern"]})
        token = sdk_token(str(data["applicant_id"]))
        self.sdk_tokens.append(token)
        return FakeResponse(200, {"token": token})  # 200, not 201, as Onfido answers

    # --- checks and reports --------------------------------------------------------------------------
    def create_check(self, request: FakeRequest) -> FakeResponse:
        data = self.body(request)
        if isinstance(data, FakeResponse):
            return data
        problems: dict[str, list[str]] = {}
        applicant_id = str(data.get("applicant_id") or "")
        if self.live_applicant(applicant_id) is None:
            problems["applicant_id"] = ["not found"]
        names = data.get("report_names")
        if not isinstance(names, list) or not names or any(n not in REPORT_NAMES for n in names):
            problems["report_names"] = ["must be a list of report names"]
        document_ids = data.get("document_ids")
        held = [d["id"] for d in self.documents.values() if d["applicant_id"] == applicant_id]
        if document_ids is not None and (
            not isinstance(document_ids, list) or any(d not in held for d in document_ids)
        ):
            problems["document_ids"] = ["must be documents of the applicant"]
        needs_document = isinstance(names, list) and any(str(n).startswith("document") for n in names)
        if needs_document and not held and "applicant_id" not in problems:
            problems["document_ids"] = ["a document report needs a document of the applicant"]
        tags = data.get("tags") or []
        if not isinstance(tags, list) or any(not isinstance(t, str) or not 1 <= len(t) <= 128 for t in tags):
            problems["tags"] = ["must be strings of 1 to 128 characters"]
        if problems:
            return self.invalid(problems)
        check_id = new_id()
        used = list(document_ids or held[-1:])
        report_ids = []
        for name in names or []:
            report_id = new_id()
            report_ids.append(report_id)
            self.reports[report_id] = {
                "id": report_id,
                "name": name,
                "check_id": check_id,
                "status": "awaiting_data",
                "result": None,
                "sub_result": None,
                "created_at": now(),
                "href": f"/v3.6/reports/{report_id}",
                "documents": [{"id": d} for d in used] if str(name).startswith("document") else [],
                "breakdown": {},
                "properties": {},
            }
        self.checks[check_id] = {
            "id": check_id,
            "applicant_id": applicant_id,
            "created_at": now(),
            "status": "in_progress",
            "result": None,
            "report_ids": report_ids,
            "tags": tags,
            "href": f"/v3.6/checks/{check_id}",
            "results_uri": f"https://dashboard.onfido.com/checks/{check_id}",
            "sandbox": True,
            "paused": False,
            "version": "3.6",
            "consider": [n for n in data.get("consider") or [] if n in (names or [])],
        }
        self.schedule_auto_decision(check_id)
        return FakeResponse(201, self.check_view(check_id))

    def check_view(self, check_id: str) -> dict[str, Any]:
        check = {k: copy.deepcopy(v) for k, v in self.checks[check_id].items() if k != "consider"}
        return check

    def get_check(self, request: FakeRequest) -> FakeResponse:
        if request.params["check_id"] not in self.checks:
            return self.error(404, "Resource not found")
        return FakeResponse(200, self.check_view(request.params["check_id"]))

    def list_checks(self, request: FakeRequest) -> FakeResponse:
        applicant_id = (request.query.get("applicant_id") or [""])[0]
        if not applicant_id:
            return self.invalid({"applicant_id": ["can't be blank"]})
        listed = [self.check_view(c) for c, check in self.checks.items() if check["applicant_id"] == applicant_id]
        return FakeResponse(200, {"checks": listed})

    def get_report(self, request: FakeRequest) -> FakeResponse:
        report = self.reports.get(request.params["report_id"])
        if report is None:
            return self.error(404, "Resource not found")
        return FakeResponse(200, copy.deepcopy(report))

    def list_reports(self, request: FakeRequest) -> FakeResponse:
        check_id = (request.query.get("check_id") or [""])[0]
        if not check_id:
            return self.invalid({"check_id": ["can't be blank"]})
        listed = [copy.deepcopy(r) for r in self.reports.values() if r["check_id"] == check_id]
        return FakeResponse(200, {"reports": listed})


def _positive(request: FakeRequest, name: str, default: int) -> int:
    try:
        return max(1, int((request.query.get(name) or [str(default)])[0]))
    except ValueError:
        return default


def _multipart(content_type: str, body: bytes) -> tuple[dict[str, str], tuple[str, bytes] | None]:
    """The form fields and the ``file`` part (name, bytes) of a ``multipart/form-data`` body."""
    message = BytesParser(policy=email.policy.HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    fields: dict[str, str] = {}
    upload: tuple[str, bytes] | None = None
    if not message.is_multipart():
        return fields, None
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        content = part.get_payload(decode=True)
        if not isinstance(name, str) or not isinstance(content, bytes):
            continue
        if name == "file" and part.get_filename():
            upload = (part.get_filename() or "", content)
        else:
            fields[name] = content.decode("utf-8", "replace")
    return fields, upload
