"""The fake Sumsub's vocabulary: outcomes the back office can set, the webhook type of each review status, ids,
and the two signatures (requests we check, webhooks we send), computed here independently of the backend."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

#: Outcome for :meth:`FakeSumsub.decide` → (``reviewStatus``, ``reviewResult`` or ``None``).
OUTCOMES: dict[str, tuple[str, dict[str, Any] | None]] = {
    "init": ("init", None),
    "pending": ("pending", None),
    "prechecked": ("prechecked", None),
    "queued": ("queued", None),
    "on_hold": ("onHold", None),
    "awaiting_service": ("awaitingService", {"reviewAnswer": "GREEN"}),
    "awaiting_user": ("awaitingUser", None),
    "approved": ("completed", {"reviewAnswer": "GREEN", "rejectLabels": []}),
    "resubmission": (
        "completed",
        {
            "reviewAnswer": "RED",
            "reviewRejectType": "RETRY",
            "rejectLabels": ["UNSATISFACTORY_PHOTOS", "SCREENSHOTS"],
            "moderationComment": "Please upload a photo of the document, not a screenshot.",
            "clientComment": "Screenshots uploaded.",
            "buttonIds": ["badPhoto_screenshot"],
        },
    ),
    "declined": (
        "completed",
        {
            "reviewAnswer": "RED",
            "reviewRejectType": "FINAL",
            "rejectLabels": ["FORGERY"],
            "moderationComment": "We could not verify your profile.",
            "clientComment": "Suspected forgery.",
        },
    ),
    "declined_sanctions": (
        "completed",
        {"reviewAnswer": "RED", "reviewRejectType": "FINAL", "rejectLabels": ["SANCTIONS", "PEP"]},
    ),
    "red_without_type": ("completed", {"reviewAnswer": "RED", "rejectLabels": ["OTHER"]}),
    # a status Sumsub might add one day, for tests of the unknown-status path
    "unmapped": ("unmapped", None),
}

#: ``reviewStatus`` → the webhook ``type`` Sumsub sends when an applicant reaches it.
WEBHOOK_TYPES = {
    "init": "applicantCreated",
    "pending": "applicantPending",
    "prechecked": "applicantPrechecked",
    "queued": "applicantPending",
    "onHold": "applicantOnHold",
    "awaitingService": "applicantAwaitingService",
    "completed": "applicantReviewed",
}
#: Any other status is announced as a change of the applicant.
OTHER_WEBHOOK_TYPE = "applicantPersonalInfoChanged"

#: ``idDocType`` values the fake accepts (the ones Sumsub's reference names, and those the backend sends).
ID_DOC_TYPES = frozenset(
    {
        "PASSPORT",
        "ID_CARD",
        "DRIVERS",
        "RESIDENCE_PERMIT",
        "SELFIE",
        "UTILITY_BILL",
        "BANK_STATEMENT",
        "PROFILE_IMAGE",
        "ID_DOC_PHOTO",
        "AGREEMENT",
        "CONTRACT",
        "OTHER",
    }
)
ID_DOC_SUBTYPES = frozenset({"FRONT_SIDE", "BACK_SIDE"})
#: Content types the fake stores as images.
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/heic", "application/pdf"})
#: The digest algorithms Sumsub signs webhooks with.
DIGESTS = {"HMAC_SHA1_HEX": hashlib.sha1, "HMAC_SHA256_HEX": hashlib.sha256, "HMAC_SHA512_HEX": hashlib.sha512}


def new_id() -> str:
    """A Sumsub-style id: 24 lowercase hex characters."""
    return secrets.token_hex(12)


def request_signature(secret: str, timestamp: str, method: str, target: str, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}{method}{target}".encode() + body, hashlib.sha256).hexdigest()


def payload_digest(secret: str, body: bytes, algorithm: str) -> str:
    return hmac.new(secret.encode(), body, DIGESTS[algorithm]).hexdigest()
