"""AML from ARGOS: the screening ARGOS runs by itself on an approved submission, read back; ongoing-monitoring
enrolment at most once per submission; the PDF report of a match (``docs/providers/argos.md``, "AML")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext

from django_kyc.backends.argos.monitoring import ENROLLED, NOT_ENROLLED, UNKNOWN, read_enrolment
from django_kyc.backends.argos.statuses import aml_status, pick_submission, result_of
from django_kyc.backends.parsing import mapping, number
from django_kyc.backends.values import AmlHitResult, AmlResult
from django_kyc.exceptions import PermanentProviderError, ProviderError, UnsupportedFeature
from django_kyc.status import AmlStatus

if TYPE_CHECKING:
    from django_kyc.backends.argos.backend import ArgosBackend
    from django_kyc.backends.argos.client import ArgosClient
    from django_kyc.models import AmlCheck

Outcome = tuple[bool, dict[str, Any]]


def screened_submission(backend: ArgosBackend, aml_check: AmlCheck) -> dict[str, Any]:
    """The submission an applicant check reads: the FAQ-rule choice of their latest ARGOS verification."""
    from django_kyc.models.aml import AmlSubject

    if aml_check.subject != AmlSubject.APPLICANT:
        raise UnsupportedFeature(
            backend.provider, gettext("AML screening of a %(subject)s") % {"subject": aml_check.subject}
        )
    verifications = aml_check.applicant.verifications.filter(backend=backend.alias).order_by("-created_at")
    for verification in verifications:
        submissions = backend.submissions_of(verification)
        if submissions:
            return dict(pick_submission(submissions))
    raise PermanentProviderError(
        "no ARGOS submission to screen: the applicant has not completed the Liveform", provider=backend.provider
    )


def screen(backend: ArgosBackend, aml_check: AmlCheck) -> AmlResult:
    """ARGOS screens by itself once a submission is approved; this reads the ``aml`` block. Before the approval
    the check is ``running`` (polled until ARGOS has screened); a rejected submission is never screened. With
    ``AML_WORKLIST_ID`` the approved submission is enrolled in ongoing monitoring."""
    submission = screened_submission(backend, aml_check)
    submission_id = str(submission.get("submission_id") or "")
    raw = result_of(submission)
    aml = mapping(submission.get("aml"))
    current = str(aml.get("currentstatus") or "")
    if raw == "rejected" and not current:
        raise PermanentProviderError("ARGOS does not screen rejected submissions", provider=backend.provider)
    if raw != "approved" or not current:
        return AmlResult(status=AmlStatus.RUNNING, provider_status=current or raw, provider_check_id=submission_id)
    status = aml_status(current)
    found = hits(submission_id, aml) if status == AmlStatus.POTENTIAL_MATCH else ()
    scores = [hit.score for hit in found if hit.score is not None]
    summary = str(aml.get("risk_level_summary") or "")
    data: dict[str, Any] = {"submission_id": submission_id, "aml": dict(aml)}
    monitored = False
    worklist = backend.option("AML_WORKLIST_ID")
    if worklist:
        monitored, data["monitoring"] = enrol(backend, aml_check, submission_id, str(worklist))
    return AmlResult(
        status=status,
        provider_status=current,
        provider_check_id=submission_id,
        hits=found,
        data=data,
        score=max(scores) if scores else None,
        risk_level="" if summary == "Not Screened" else summary.lower(),
        monitored=monitored,
    )


def hits(submission_id: str, aml: Mapping[str, Any]) -> tuple[AmlHitResult, ...]:
    """One hit per ``matches[]`` entry; a red flag without details still gets one, for a person to resolve."""
    found: list[AmlHitResult] = []
    for match in aml.get("matches") or []:
        if not isinstance(match, Mapping):
            continue
        resource = str(match.get("resource_id") or "")
        argos_number = str(match.get("argos_number") or "")
        found.append(
            AmlHitResult(
                entity_id=resource or argos_number or f"{submission_id}:{len(found)}",
                caption=f"ARGOS match {argos_number or resource}".strip(),
                score=number(match.get("score")),
                topics=tuple(str(icon) for icon in match.get("risk_icons") or ()),
                details={
                    "risk_level": str(match.get("risk_level") or ""),
                    "argos_number": argos_number,
                    "resource_id": resource,
                    "submission_id": submission_id,
                },
            )
        )
    if not found:
        found.append(
            AmlHitResult(
                entity_id=f"{submission_id}:red-flag",
                caption="ARGOS red flag (no match details returned)",
                details={"submission_id": submission_id},
            )
        )
    return tuple(found)


def enrol(backend: ArgosBackend, aml_check: AmlCheck, submission_id: str, worklist: str) -> Outcome:
    """``POST /submission/aml/monitor/{worklistId}``, only when the submission is known not to be enrolled.

    Before enrolling: the stored state (earlier checks of the same submission) and, for the record ids it holds,
    ARGOS's own records. A call that got no answer leaves the state ``unknown``, which is never enrolled again
    automatically: ARGOS has no way to list a worklist's records by submission, so a person checks the dashboard
    (``provider_data["monitoring"]`` says so). The answer is read leniently (:func:`.monitoring.read_enrolment`)."""
    earlier = earlier_enrolment(backend, aml_check, submission_id, worklist)
    if earlier is not None:
        return earlier
    admin = backend.require_admin("enrol ongoing AML monitoring")
    try:
        answer = backend.client.enrol(worklist, submission_id, admin)
    except ProviderError as exc:
        if "all_submissions_failed" in exc.message:  # ARGOS's "nothing was registered"
            return False, {"worklist_id": worklist, "state": NOT_ENROLLED, "error": exc.message}
        if exc.status_code is not None and exc.status_code < 500:
            raise  # refused (or rate-limited): nothing registered, the check says why or is retried
        return False, {
            "worklist_id": worklist,
            "state": UNKNOWN,
            "error": f"the enrolment got no answer ({exc.message}); check the worklist in ARGOS's dashboard",
        }
    enrolment = read_enrolment(answer, submission_id)
    data: dict[str, Any] = {"worklist_id": worklist, "state": enrolment.state}
    if enrolment.record_ids:
        data["record_ids"] = list(enrolment.record_ids)
    if enrolment.error:
        data["note" if enrolment.enrolled else "error"] = enrolment.error
    return enrolment.enrolled, data


def earlier_enrolment(backend: ArgosBackend, aml_check: AmlCheck, submission_id: str, worklist: str) -> Outcome | None:
    """What earlier checks of the same submission recorded about its enrolment in ``worklist``, confirmed with
    ARGOS where record ids are known; ``None`` when it is not (or no longer) enrolled."""
    from django_kyc.models import AmlCheck as AmlCheckModel

    earlier = (
        AmlCheckModel.objects.filter(
            applicant_id=aml_check.applicant_id, backend=backend.alias, provider_check_id=submission_id
        )
        .exclude(pk=aml_check.pk)
        .order_by("-created_at")
    )
    for check in earlier:
        monitoring = mapping(mapping(check.provider_data).get("monitoring"))
        if str(monitoring.get("worklist_id") or worklist) != worklist:
            continue
        state = str(monitoring.get("state") or (ENROLLED if check.monitored else ""))
        record_ids = [str(r) for r in monitoring.get("record_ids") or []]
        if state == UNKNOWN:
            return False, {
                "worklist_id": worklist,
                "state": UNKNOWN,
                "error": "an earlier enrolment got no answer; check the worklist in ARGOS's dashboard",
            }
        if state != ENROLLED:
            continue
        if record_ids:
            records = monitoring_records(backend.client, worklist, record_ids, submission_id)
            if not records:
                return None  # ARGOS no longer holds them: enrol again
            return True, {
                "worklist_id": worklist,
                "state": ENROLLED,
                "enrolled": "earlier",
                "record_ids": [record["record_id"] for record in records],
                "records": records,
            }
        return True, {"worklist_id": worklist, "state": ENROLLED, "enrolled": "earlier"}
    return None


def monitoring_records(
    client: ArgosClient, worklist: str, record_ids: Sequence[str], submission_id: str
) -> list[dict[str, Any]]:
    """ARGOS's monitoring records among ``record_ids`` that still exist for ``submission_id`` (id, status)."""
    found = []
    for record_id in record_ids:
        try:
            record = client.monitoring_record(worklist, record_id)
        except PermanentProviderError as exc:
            if exc.status_code in (400, 404):
                continue
            raise
        if str(record.get("submissionId") or submission_id) == submission_id:
            found.append({"record_id": record_id, "status": str(record.get("status") or "")})
    return found


def report(backend: ArgosBackend, aml_check: AmlCheck) -> tuple[bytes, str]:
    """The PDF of the check's highest-scoring match (ARGOS issues reports for Red Flag matches only)."""
    matches = [
        hit.details.get("resource_id")
        for hit in aml_check.hits.order_by("-score")
        if isinstance(hit.details, Mapping) and hit.details.get("resource_id")
    ]
    if not matches:
        raise PermanentProviderError("no ARGOS AML report: there is no Red Flag match", provider=backend.provider)
    return backend.aml_report_for(str(matches[0]))
