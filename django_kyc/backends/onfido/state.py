"""Onfido's answers as our :class:`ProviderState`: a Studio workflow run, or a classic check with its reports.

No HTTP and no database: the backend fetches, this reads. Person data Onfido extracted (a run's ``output``, a
report's ``properties``) is not copied into ``data``: reviewers open the run or check in Onfido's dashboard
(its link is kept), and our rows do not fill up with what Onfido already holds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django_kyc.backends.onfido.statuses import (
    COMPLETE,
    check_status,
    report_status,
    workflow_run_status,
)
from django_kyc.backends.parsing import iso_datetime, mapping, string_list, text
from django_kyc.backends.values import DocumentResult, ProviderState
from django_kyc.status import DocumentStatus, VerificationStatus

V = VerificationStatus
#: A reason is cut to this many characters (reasons are listed, and stored with each verification).
REASON_LIMIT = 500
#: What a report's own status means for the documents it read.
_DOCUMENT_STATUS: Mapping[str, str] = {
    V.APPROVED: DocumentStatus.ACCEPTED,
    V.DECLINED: DocumentStatus.REJECTED,
    V.RESUBMISSION_REQUESTED: DocumentStatus.RESUBMISSION_REQUESTED,
}
#: ``CONSIDER`` policies: what a complete check with ``result=consider`` becomes.
CONSIDER_POLICIES = ("review", "decline")


def run_state(run: Mapping[str, Any]) -> ProviderState:
    """A workflow run (``GET /workflow_runs/{id}``). Its ``reasons`` and, for ``error``, the error's type and
    message are the reasons a reviewer reads."""
    raw = text(run.get("status"))
    error = mapping(run.get("error"))
    reasons = [reason[:REASON_LIMIT] for reason in string_list(run.get("reasons"))]
    if error:
        said = ": ".join(part for part in (text(error.get("type")), text(error.get("message"))) if part)
        if said:
            reasons.append(said[:REASON_LIMIT])
    data = {
        "onfido": {
            "workflow_run_id": text(run.get("id")),
            "applicant_id": text(run.get("applicant_id")),
            "status": raw,
            "workflow_id": text(run.get("workflow_id")),
            "workflow_version_id": run.get("workflow_version_id"),
            "dashboard_url": text(run.get("dashboard_url")),
            "reasons": string_list(run.get("reasons")),
            "error": {"type": text(error.get("type")), "message": text(error.get("message"))} if error else None,
        }
    }
    return ProviderState(
        status=workflow_run_status(raw),
        provider_status=raw or "(empty)",
        reasons=tuple(reasons),
        occurred_at=iso_datetime(run.get("updated_at")),
        data=data,
    )


def check_state(
    check: Mapping[str, Any], reports: Sequence[Mapping[str, Any]], consider: str = "review"
) -> ProviderState:
    """A classic check (``GET /checks/{id}``) with its reports (``GET /reports?check_id=``).

    The check's ``status`` and ``result`` decide (:func:`check_status`); a complete check that needs a person
    is refined by its reports: a document Onfido could not process (``sub_result=rejected``) asks the person
    for another picture, and under ``consider="decline"`` the rest of ``consider`` is a decline.
    """
    raw, result = text(check.get("status")), text(check.get("result")) or None
    status = check_status(raw, result)
    per_report = [(report, report_status(*_report_values(report))) for report in reports]
    if raw == COMPLETE and status == V.REVIEW and result == "consider":
        outcomes = {outcome for _, outcome in per_report}
        if V.RESUBMISSION_REQUESTED in outcomes and outcomes <= {V.APPROVED, V.RESUBMISSION_REQUESTED}:
            status = V.RESUBMISSION_REQUESTED
        elif consider == "decline":
            status = V.DECLINED
    reasons = [
        f"{text(report.get('name')) or 'report'}: {'/'.join(v for v in _report_values(report)[1:] if v)}"[:REASON_LIMIT]
        for report, outcome in per_report
        if outcome != V.APPROVED and text(report.get("status")) == COMPLETE
    ]
    data = {
        "onfido": {
            "check_id": text(check.get("id")),
            "applicant_id": text(check.get("applicant_id")),
            "status": raw,
            "result": result,
            "results_uri": text(check.get("results_uri")),
            "reports": [
                {
                    "id": text(report.get("id")),
                    "name": text(report.get("name")),
                    "status": text(report.get("status")),
                    "result": report.get("result"),
                    "sub_result": report.get("sub_result"),
                }
                for report in reports
            ],
        }
    }
    return ProviderState(
        status=status,
        provider_status=f"{raw}/{result}" if result else raw or "(empty)",
        reasons=tuple(reasons),
        occurred_at=iso_datetime(check.get("completed_at_iso8601")),
        documents=tuple(_documents(per_report)),
        data=data,
    )


def _report_values(report: Mapping[str, Any]) -> tuple[str, str | None, str | None]:
    return text(report.get("status")), text(report.get("result")) or None, text(report.get("sub_result")) or None


def _documents(per_report: Sequence[tuple[Mapping[str, Any], str]]) -> list[DocumentResult]:
    """The documents each complete report read (``documents[].id``), with the report's verdict on them."""
    found: dict[str, DocumentResult] = {}
    for report, outcome in per_report:
        if text(report.get("status")) != COMPLETE:
            continue
        for item in report.get("documents") or []:
            document_id = text(mapping(item).get("id"))
            if document_id and document_id not in found:
                found[document_id] = DocumentResult(
                    status=_DOCUMENT_STATUS.get(outcome, DocumentStatus.SUBMITTED),
                    provider_document_id=document_id,
                    reasons=(f"{text(report.get('name'))}: {text(report.get('sub_result') or report.get('result'))}",)
                    if outcome != V.APPROVED
                    else (),
                )
    return list(found.values())
