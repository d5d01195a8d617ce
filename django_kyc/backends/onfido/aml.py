"""AML screening through Onfido: a classic check with one ``watchlist_*`` report, read back onto AmlCheck/AmlHit.

The screening is an ordinary ``POST /checks`` whose ``report_names`` is ``OPTIONS["AML_REPORT"]`` (by default
``watchlist_standard``), tagged with our AML check's id so a lost answer is found again. ``clear`` is clear;
``consider`` is a potential match, one hit per record of the report's ``properties.records`` (each a listed
person: name, dates of birth, positions, sources). ``docs/providers/onfido.md``, "AML", has the details.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from django_kyc.backends.onfido.statuses import COMPLETE
from django_kyc.backends.onfido.submission import find_applicant, person_fields
from django_kyc.backends.parsing import iso_datetime, mapping, text
from django_kyc.backends.values import AmlHitResult, AmlResult
from django_kyc.exceptions import PermanentProviderError
from django_kyc.status import AmlStatus

if TYPE_CHECKING:
    from django_kyc.backends.onfido.backend import OnfidoBackend
    from django_kyc.models import AmlCheck

#: The watchlist reports Onfido offers (report ``name`` values).
WATCHLIST_REPORTS = (
    "watchlist_standard",
    "watchlist_enhanced",
    "watchlist_aml",
    "watchlist_peps_only",
    "watchlist_sanctions_only",
)
#: Where the applicant used for screenings is kept on the AML check.
APPLICANT_KEY = "onfido_applicant_id"
#: When an applicant create call for the screening was made whose answer may have been lost.
CREATING_KEY = "onfido_applicant_requested_at"
#: Check statuses after which no report will come.
_ENDED = frozenset({"withdrawn"})


def screen(backend: OnfidoBackend, aml_check: AmlCheck) -> AmlResult:
    """Create the watchlist check once (its id is committed at once), then read it."""
    if not aml_check.provider_check_id:
        applicant_id = applicant_for(backend, aml_check)
        tag = str(aml_check.pk)
        found = [c for c in backend.client.list_checks(applicant_id) if tag in (c.get("tags") or [])]
        check = (
            found[0]
            if found
            else backend.client.create_check(
                {"applicant_id": applicant_id, "report_names": [backend.option("AML_REPORT")], "tags": [tag]}
            )
        )
        backend.remember_aml(aml_check, provider_check_id=backend.client.created_id(check, "check"))
    return fetch(backend, aml_check)


def applicant_for(backend: OnfidoBackend, aml_check: AmlCheck) -> str:
    """The Onfido applicant to screen: this check's, the person's latest verification's, or a new one."""
    held = text(mapping(aml_check.provider_data).get(APPLICANT_KEY))
    if held:
        return held
    applicant = aml_check.applicant
    from_verification = (
        applicant.verifications.filter(backend=backend.alias)
        .exclude(provider_applicant_id="")
        .order_by("-created_at")
        .values_list("provider_applicant_id", flat=True)
        .first()
    )
    if from_verification:
        backend.remember_aml(aml_check, provider_data={APPLICANT_KEY: from_verification})
        return from_verification
    fields = person_fields(applicant)
    # an earlier attempt's create whose answer was lost is looked for first, as for verifications
    requested = iso_datetime(mapping(aml_check.provider_data).get(CREATING_KEY))
    applicant_id = find_applicant(backend.client, fields, requested) if requested else ""
    if not applicant_id:
        backend.remember_aml(aml_check, provider_data={CREATING_KEY: timezone.now().isoformat()})
        applicant_id = backend.client.created_id(backend.client.create_applicant(fields), "applicant")
    backend.remember_aml(aml_check, provider_data={APPLICANT_KEY: applicant_id})
    return applicant_id


def fetch(backend: OnfidoBackend, aml_check: AmlCheck) -> AmlResult:
    """The check and its watchlist report: ``running`` until the check is complete."""
    check_id = aml_check.provider_check_id
    check = backend.client.get_check(check_id)
    status = text(check.get("status"))
    if status in _ENDED:
        raise PermanentProviderError(f"the Onfido watchlist check was {status}", provider=backend.provider)
    if status != COMPLETE:
        return AmlResult(status=AmlStatus.RUNNING, provider_status=status, provider_check_id=check_id)
    reports = [r for r in backend.client.list_reports(check_id) if text(r.get("name")).startswith("watchlist")]
    return aml_result(check_id, check, reports)


def aml_result(check_id: str, check: Mapping[str, Any], reports: Sequence[Mapping[str, Any]]) -> AmlResult:
    """A complete watchlist check as our result. A ``clear`` check is clear; anything else is a potential
    match for a person, with a hit per listed record (one placeholder hit when Onfido lists none)."""
    result = text(check.get("result"))
    data = {
        "check_id": check_id,
        "result": result,
        "reports": [{"id": text(r.get("id")), "name": text(r.get("name")), "result": r.get("result")} for r in reports],
    }
    if result == "clear":
        return AmlResult(
            status=AmlStatus.CLEAR, provider_status=f"complete/{result}", provider_check_id=check_id, data=data
        )
    found = [hit for report in reports for hit in hits(report)]
    if not found:
        found = [AmlHitResult(entity_id=f"{check_id}:consider", caption="Onfido watchlist report: consider")]
    return AmlResult(
        status=AmlStatus.POTENTIAL_MATCH,
        provider_status=f"complete/{result or 'none'}",
        provider_check_id=check_id,
        hits=tuple(found),
        data=data,
    )


def hits(report: Mapping[str, Any]) -> list[AmlHitResult]:
    """One hit per ``properties.records[]`` entry of a ``consider`` report."""
    if text(report.get("result")) != "consider":
        return []
    report_id = text(report.get("id"))
    found = []
    for index, record in enumerate(mapping(report.get("properties")).get("records") or []):
        record = mapping(record)
        sources = [text(mapping(s).get("source_name")) for s in record.get("source") or [] if mapping(s)]
        categories = [text(mapping(e).get("category")) for e in record.get("event") or [] if mapping(e)]
        found.append(
            AmlHitResult(
                entity_id=f"{report_id}:{index}",
                caption=text(record.get("full_name")) or f"{text(report.get('name'))} record {index + 1}",
                topics=tuple(sorted({c for c in categories if c})),
                datasets=tuple(sorted({s for s in sources if s})),
                details={
                    "report": text(report.get("name")),
                    "date_of_birth": [text(d) for d in record.get("date_of_birth") or []],
                    "position": record.get("position") or [],
                    "alias": record.get("alias") or [],
                },
            )
        )
    return found
