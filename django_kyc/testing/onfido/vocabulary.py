"""The fake Onfido's vocabulary: outcomes the back office can set, Onfido's enums and rules, ids and tokens."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Mapping
from datetime import datetime
from datetime import timezone as dt_timezone

from django_kyc.backends.onfido.webhooks import sign

__all__ = ["sign"]

API_PREFIX = "/v3.6"
#: Workflow run statuses (Onfido's enum). The back office may set any other string too: an unknown status.
RUN_STATUSES = (
    "processing",
    "awaiting_input",
    "awaiting_client_input",
    "approved",
    "declined",
    "review",
    "abandoned",
    "error",
)
#: Run statuses of a run still going: a task event announces them; any other status is announced by
#: ``workflow_run.completed``.
RUN_GOING = frozenset({"awaiting_input", "awaiting_client_input", "processing"})
#: Outcomes for a check: (check status, check result, report result, document ``sub_result``).
CHECK_OUTCOMES: Mapping[str, tuple[str, str | None, str | None, str | None]] = {
    "processing": ("in_progress", None, None, None),
    "in_progress": ("in_progress", None, None, None),
    "awaiting_applicant": ("awaiting_applicant", None, None, None),
    "approved": ("complete", "clear", "clear", "clear"),
    "clear": ("complete", "clear", "clear", "clear"),
    "consider": ("complete", "consider", "consider", "caution"),
    "caution": ("complete", "consider", "consider", "caution"),
    "suspected": ("complete", "consider", "consider", "suspected"),
    "rejected": ("complete", "consider", "consider", "rejected"),
    "withdrawn": ("withdrawn", None, None, None),
    "paused": ("paused", None, None, None),
    "reopened": ("reopened", "consider", "consider", "caution"),
}
#: Report statuses by check status (an unknown check status leaves its reports waiting).
REPORT_STATUS_FOR_CHECK: Mapping[str, str] = {
    "complete": "complete",
    "withdrawn": "withdrawn",
    "reopened": "complete",
    "paused": "awaiting_approval",
}
#: Check events by check status.
CHECK_ACTIONS: Mapping[str, str] = {
    "complete": "check.completed",
    "withdrawn": "check.withdrawn",
    "reopened": "check.reopened",
    "awaiting_applicant": "check.started",
    "in_progress": "check.started",
}
REPORT_NAMES = frozenset(
    {
        "document",
        "document_video",
        "document_video_with_address_information",
        "document_with_address_information",
        "document_with_driving_licence_information",
        "document_with_driver_verification",
        "facial_similarity_photo",
        "facial_similarity_photo_fully_auto",
        "facial_similarity_video",
        "facial_similarity_motion",
        "known_faces",
        "identity_enhanced",
        "watchlist_aml",
        "watchlist_enhanced",
        "watchlist_standard",
        "watchlist_peps_only",
        "watchlist_sanctions_only",
        "proof_of_address",
        "us_driving_licence",
        "device_intelligence",
        "india_pan",
    }
)
#: The document types the fake takes (a subset of Onfido's enum: those a backend sends, and ``unknown``).
DOCUMENT_TYPES = frozenset(
    {
        "passport",
        "driving_licence",
        "national_identity_card",
        "residence_permit",
        "passport_card",
        "tax_id",
        "visa",
        "voter_id",
        "utility_bill",
        "bank_statement",
        "unknown",
    }
)
#: ``POST /documents``: "The valid file types are: jpg, png and pdf. The file size must be between 2KB and 3MB."
FILE_SIGNATURES = {b"\xff\xd8\xff": "jpg", b"\x89PNG\r\n\x1a\n": "png", b"%PDF-": "pdf"}
MIN_FILE_BYTES = 2 * 1024
MAX_FILE_BYTES = 3 * 1024 * 1024
#: Onfido's rule for names: none of these characters.
FORBIDDEN_NAME_CHARACTERS = '!#$%*=<>;{}"'
#: How long the fake's SDK tokens live (Onfido does not publish it; the token states it in ``exp``).
SDK_TOKEN_SECONDS = 90 * 60
#: A listed person, for watchlist reports that ``consider``.
WATCHLIST_RECORD = {
    "full_name": "Jane Listed Example",
    "date_of_birth": ["1990-02-03"],
    "position": ["Minister of Examples"],
    "alias": [{"alias_name": "J. L. Example", "alias_type": "AKA"}],
    "event": [{"category": "PEP", "event_description": "Politically exposed person"}],
    "source": [{"source_name": "Example PEP list", "source_url": "https://example.invalid/pep"}],
}


def new_id() -> str:
    return str(uuid.uuid4())


def now() -> str:
    return datetime.now(dt_timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def sdk_token(applicant_id: str, seconds: int = SDK_TOKEN_SECONDS) -> str:
    """A JWT-shaped token stating its expiry (``exp``), as Onfido's are; the signature part is a stand-in."""

    def part(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    claims = {"exp": int(time.time()) + seconds, "payload": {"app": applicant_id}, "uuid": new_id()}
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}.fake-onfido-signature"
