"""Onfido's status vocabularies (API v3.6) in ours: workflow runs, checks and reports.

Pure tables and functions, no HTTP and no database, so the management command that imports django-onfido rows
can use them as well as the backend, and each mapping is tested on its own
(``tests/backends/test_onfido_statuses.py``). The enums are those of Onfido's OpenAPI specification; the
choices made where Onfido leaves the meaning to the integrator are in ``docs/providers/onfido.md``.

Onfido never declines anything itself: a check or report ends ``complete`` with ``result`` ``clear`` or
``consider``, and what ``consider`` means is the integrator's call. Here it goes to a person (``review``);
the backend's ``CONSIDER`` option can make it a decline instead.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from django_kyc.status import VerificationStatus

V = VerificationStatus

#: Workflow run (Onfido Studio) ``status`` → ours. ``awaiting_client_input`` waits for the integrator to
#: complete a task, which is still nobody's decision: the person's side is done, so it counts as processing
#: rather than waiting for the user. ``abandoned`` is a run the person never finished.
WORKFLOW_RUN_STATUS: Mapping[str, str] = {
    "awaiting_input": V.AWAITING_USER,
    "awaiting_client_input": V.PROCESSING,
    "processing": V.PROCESSING,
    "review": V.REVIEW,
    "approved": V.APPROVED,
    "declined": V.DECLINED,
    "abandoned": V.EXPIRED,
    "error": V.ERROR,
}

#: Check ``status`` → ours, for every status but ``complete`` (whose meaning is in its ``result``).
#: ``withdrawn`` is a check the integrator withdrew; ``paused`` and ``reopened`` wait for someone at Onfido's
#: dashboard, so a person looks.
CHECK_STATUS: Mapping[str, str] = {
    "in_progress": V.PROCESSING,
    "awaiting_applicant": V.AWAITING_USER,
    "withdrawn": V.CANCELLED,
    "paused": V.REVIEW,
    "reopened": V.REVIEW,
}
#: The ``complete`` status's value.
COMPLETE = "complete"

#: A complete check's or report's ``result`` → ours. ``unidentified`` (identity reports: the person was not
#: found in the sources) needs a person as much as ``consider`` does.
RESULT: Mapping[str, str] = {
    "clear": V.APPROVED,
    "consider": V.REVIEW,
    "unidentified": V.REVIEW,
}

#: Report ``status`` → ours, for every status but ``complete``. ``awaiting_approval`` waits for the integrator's
#: approval at Onfido (a person), ``awaiting_data`` for Onfido's sources.
REPORT_STATUS: Mapping[str, str] = {
    "awaiting_data": V.PROCESSING,
    "awaiting_approval": V.REVIEW,
    "cancelled": V.CANCELLED,
    "withdrawn": V.CANCELLED,
}

#: A complete document report's ``sub_result`` → ours; it refines ``result`` (``clear`` comes with
#: ``result=clear``). ``rejected`` means Onfido could not process the document (an unreadable picture, a
#: document it does not support): the person can try again with another picture. ``suspected`` (a document
#: that looks fraudulent) and ``caution`` (something else did not match) go to a person.
SUB_RESULT: Mapping[str, str] = {
    "clear": V.APPROVED,
    "rejected": V.RESUBMISSION_REQUESTED,
    "suspected": V.REVIEW,
    "caution": V.REVIEW,
}

#: What any value we have no row for becomes: a person looks, and the raw value is kept by the caller.
UNKNOWN = V.REVIEW


def check_status(status: str, result: str | None) -> str:
    """Our status for an Onfido check. ``result`` only counts once the check is ``complete``; a complete check
    without a known result, and any status Onfido adds later, go to a person (:data:`UNKNOWN`)."""
    if status == COMPLETE:
        return RESULT.get(result or "", UNKNOWN)
    return CHECK_STATUS.get(status, UNKNOWN)


def report_status(status: str, result: str | None, sub_result: str | None) -> str:
    """Our status for an Onfido report. A document report's ``sub_result`` is read first (it says why a
    ``consider`` was given); other reports have none, and their ``result`` decides."""
    if status != COMPLETE:
        return REPORT_STATUS.get(status, UNKNOWN)
    if sub_result:
        from_sub_result = SUB_RESULT.get(sub_result, UNKNOWN)
        # ``sub_result=clear`` with ``result=consider`` would be a contradiction: the result wins.
        if from_sub_result != V.APPROVED or result in (None, "", "clear"):
            return from_sub_result
    return RESULT.get(result or "", UNKNOWN)


def workflow_run_status(status: str) -> str:
    """Our status for an Onfido Studio workflow run; a status Onfido adds later goes to a person."""
    return WORKFLOW_RUN_STATUS.get(status, UNKNOWN)


# --- documents -------------------------------------------------------------------------------------------

#: Our document types → Onfido's ``type`` for ``POST /documents`` (``OPTIONS["DOCUMENT_TYPES"]`` overrides any
#: of them). A selfie is no document at Onfido (live photos have their own endpoint): it is not sent.
DOCUMENT_TYPES: Mapping[str, str | None] = {
    "passport": "passport",
    "id_card": "national_identity_card",
    "driving_licence": "driving_licence",
    "residence_permit": "residence_permit",
    "utility_bill": "utility_bill",
    "bank_statement": "bank_statement",
    "other": "unknown",
    "selfie": None,
}
#: Onfido's ``type`` → ours, for documents the hosted flow captured.
OUR_DOCUMENT_TYPES: Mapping[str, str] = {
    "passport": "passport",
    "national_identity_card": "id_card",
    "driving_licence": "driving_licence",
    "residence_permit": "residence_permit",
    "utility_bill": "utility_bill",
    "bank_statement": "bank_statement",
}
#: What ``POST /documents`` takes: "The valid file types are: jpg, png and pdf. The file size must be between
#: 2KB and 3MB." (content type → the extension of the file name sent).
DOCUMENT_CONTENT_TYPES: Mapping[str, str] = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}
DOCUMENT_MIN_BYTES = 2 * 1024
DOCUMENT_MAX_BYTES = 3 * 1024 * 1024
#: The rule as the 400 states it.
DOCUMENT_RULE = _("Onfido takes JPG, PNG or PDF files between 2 KB and 3 MB")


def file_problem(content_type: str, size: int) -> str:
    """Why Onfido would refuse a file of this type and size, or ``""`` when it takes it (in the active
    language: the API answers an applicant with it)."""
    if content_type not in DOCUMENT_CONTENT_TYPES:
        return gettext("%(type)s is not accepted (%(rule)s)") % {
            "type": content_type or gettext("this file type"),
            "rule": DOCUMENT_RULE,
        }
    if size < DOCUMENT_MIN_BYTES:
        return gettext("the file has %(size)s bytes, fewer than Onfido's minimum (%(rule)s)") % {
            "size": size,
            "rule": DOCUMENT_RULE,
        }
    if size > DOCUMENT_MAX_BYTES:
        return gettext("the file has %(size)s bytes, more than Onfido's maximum (%(rule)s)") % {
            "size": size,
            "rule": DOCUMENT_RULE,
        }
    return ""


def document_type(our_type: str, overrides: Mapping[str, str | None] | None = None) -> str | None:
    """Onfido's ``type`` for one of our document types; ``None``: the document is not sent."""
    table = {**DOCUMENT_TYPES, **(overrides or {})}
    return table.get(our_type, "unknown")
