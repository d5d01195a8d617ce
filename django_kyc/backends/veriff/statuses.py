"""Veriff's vocabularies and ours: session statuses, decision reason codes, media contexts and file rules.

Pure tables and functions (no HTTP, no database), tested on their own in
``tests/backends/test_veriff_statuses.py``. Where each value comes from, and what Veriff leaves open, is in
``docs/providers/veriff.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.utils.translation import gettext

from django_kyc.status import VerificationStatus

V = VerificationStatus

#: ``verification.status`` (decisions) and the event webhook's ``action`` → our status. Mapped on the string,
#: never on ``code``: Veriff's pages disagree on what 9104 and 9121 mean.
STATUS_MAP: Mapping[str, str] = {
    "created": V.AWAITING_USER,  # the session exists and its link waits for the person
    "started": V.AWAITING_USER,  # 7001: the person is in the flow
    "submitted": V.PROCESSING,  # 7002: everything is in, no decision yet
    "approved": V.APPROVED,  # 9001
    "declined": V.DECLINED,  # 9102
    "resubmission_requested": V.RESUBMISSION_REQUESTED,  # 9103: the same session link takes the retry
    "expired": V.EXPIRED,  # 9104: never started in time
    "abandoned": V.EXPIRED,  # 9104: started, never finished in time
    "review": V.REVIEW,  # 9121 in the status table
}

#: What ``GET /v1/sessions/{id}/decision`` answering ``verification: null`` is recorded as.
NO_DECISION = "(no decision)"

#: ``verification.reasonCode`` → codes of our reviewer catalogue. A code not listed becomes ``OTHER`` (see
#: :func:`catalogue_codes`); ``DJANGO_KYC["PROVIDER_REASON_MAP"]`` overrides.
CATALOGUE_CODES: dict[str, str] = {
    # declined
    "101": "DOCUMENT_UNSUPPORTED",  # physical document not used
    "102": "DOCUMENT_EDITED",  # suspected document tampering
    "103": "SELFIE_MISMATCH",  # person does not match the document photo
    "104": "DATA_MISMATCH",  # name entered does not match the document
    "105": "SUSPECTED_FRAUD",  # suspicious behaviour
    "106": "SUSPECTED_FRAUD",  # known fraud
    "108": "DUPLICATE_APPLICANT",  # velocity/abuse: duplicated end-user
    "109": "DUPLICATE_APPLICANT",  # duplicated device
    "110": "DUPLICATE_APPLICANT",  # duplicated ID
    "111": "SUSPECTED_FRAUD",  # session fraudulently accessed
    "112": "SUSPICIOUS_NETWORK",  # restricted IP location
    "113": "SUSPECTED_FRAUD",  # identity farming
    "120": "SELFIE_MISMATCH",  # portrait does not match the reference photo
    "124": "DUPLICATE_APPLICANT",  # face already in the face collection
    "127": "COMPROMISED_PERSON",  # face matches the blocklist
    "128": "DATA_MISMATCH",  # end user id mismatch
    # resubmission_requested
    "201": "DOCUMENT_INCOMPLETE",  # video and/or photos missing
    "202": "SELFIE_MISSING",  # face not clearly visible
    "203": "DOCUMENT_INCOMPLETE",  # full document not visible
    "204": "DOCUMENT_UNREADABLE",  # poor image quality
    "205": "DOCUMENT_DAMAGED",
    "206": "DOCUMENT_UNSUPPORTED",  # document type not supported
    "207": "DOCUMENT_EXPIRED",
    "208": "SELFIE_MISSING",
    "209": "DOCUMENT_INCOMPLETE",  # document photo missing
    "539": "ATTEMPTS_EXHAUSTED",  # resubmission limit exceeded (the 10th attempt is declined)
}

#: Media ``context`` values for our document sides (``POST /v1/sessions/{id}/media``).
SIDE_CONTEXTS: Mapping[str, str] = {"front": "document-front", "single": "document-front", "back": "document-back"}
FACE_CONTEXT = "face"
#: Our document types Veriff's identity flow takes (a selfie goes as ``face``); the others are not sent.
IDENTITY_DOCUMENTS = frozenset({"passport", "id_card", "driving_licence", "residence_permit"})
#: Veriff's ``verification.document.type`` for ours.
DOCUMENT_TYPES: Mapping[str, str] = {
    "passport": "PASSPORT",
    "id_card": "ID_CARD",
    "driving_licence": "DRIVERS_LICENSE",
    "residence_permit": "RESIDENCE_PERMIT",
}

#: Content types Veriff's media endpoint takes (jpg/jpeg, png, heif/heic, webp, pdf).
MEDIA_TYPES = frozenset(
    {"image/jpeg", "image/jpg", "image/png", "image/heif", "image/heic", "image/webp", "application/pdf"}
)
#: The base64 string of one upload may be at most 24 MB; a PDF at most 20 MB.
MAX_BASE64_BYTES = 24 * 1000 * 1000
MAX_PDF_BYTES = 20 * 1000 * 1000


def base64_length(size: int) -> int:
    return 4 * ((size + 2) // 3)


def file_problem(content_type: str, size: int) -> str:
    """Why Veriff's media endpoint would refuse a file, or ``""``."""
    if content_type not in MEDIA_TYPES:
        return gettext("Veriff takes JPG, PNG, HEIF/HEIC, WEBP or PDF files, not %(type)s") % {
            "type": content_type or gettext("this type")
        }
    if content_type == "application/pdf" and size > MAX_PDF_BYTES:
        return gettext("Veriff takes PDF files of at most 20 MB; this one has %(size)s bytes") % {"size": size}
    if base64_length(size) > MAX_BASE64_BYTES:
        return gettext(
            "Veriff takes files whose base64 form is at most 24 MB (about 17 MB of image); this one has %(size)s bytes"
        ) % {"size": size}
    return ""


def reason_code(value: object) -> str:
    """``reasonCode`` (a number or a string, or null) as a string; ``""`` when there is none."""
    if value is None or isinstance(value, bool):
        return ""
    return str(value).strip()


def catalogue_codes(codes: Iterable[str]) -> list[str]:
    """Veriff's reason codes as codes of our reviewer catalogue (:data:`CATALOGUE_CODES`, then
    ``DJANGO_KYC["PROVIDER_REASON_MAP"]``)."""
    from django_kyc.reasons import normalise_reasons  # the catalogue's labels need Django settings

    return normalise_reasons([code for code in codes if code], CATALOGUE_CODES)
