"""The catalogue of reason codes reviewers pick from, extended by ``DJANGO_KYC["REASON_CODES"]``.

Providers report decline reasons in their own vocabularies; :func:`normalise_reasons` folds them onto this
catalogue, with the map the provider's backend states (KYCAID's is ``backends.kycaid.statuses.CATALOGUE_CODES``)
and ``DJANGO_KYC["PROVIDER_REASON_MAP"]`` over it, so a reviewer deciding on a provider's findings picks from one
list, and statistics across backends compare like with like.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.utils.translation import gettext_lazy as _

from django_kyc.conf import kyc_settings

BUILTIN_REASON_CODES: dict[str, str] = {
    "VERIFIED_MANUALLY": str(_("Verified manually by a reviewer")),
    "DOCUMENT_UNREADABLE": str(_("Document unreadable or low quality")),
    "DOCUMENT_DAMAGED": str(_("Document damaged")),
    "DOCUMENT_INCOMPLETE": str(_("Document incomplete (a side or page missing)")),
    "DOCUMENT_EXPIRED": str(_("Document expired")),
    "DOCUMENT_UNSUPPORTED": str(_("Document type not accepted")),
    "DOCUMENT_EDITED": str(_("Document edited or tampered with")),
    "ADDITIONAL_DOCUMENT_REQUIRED": str(_("Additional document required (e.g. tax id)")),
    "DATA_MISMATCH": str(_("Data does not match the document")),
    "SELFIE_MISSING": str(_("Selfie missing")),
    "SELFIE_MISMATCH": str(_("Selfie does not match the document")),
    "MULTIPLE_PERSONS": str(_("More than one person in the pictures")),
    "SUSPECTED_FRAUD": str(_("Suspected fraud or tampering")),
    "SUSPECTED_COERCION": str(_("Applicant appears to act under compulsion")),
    "DUPLICATE_APPLICANT": str(_("Duplicate of another applicant")),
    "COMPROMISED_PERSON": str(_("Person on a blacklist or otherwise compromised")),
    "SUSPICIOUS_NETWORK": str(_("Anonymising network or IP mismatch")),
    "ATTEMPTS_EXHAUSTED": str(_("Verification attempts or one-time codes exhausted")),
    "SANCTIONS_MATCH": str(_("Sanctions or PEP match")),
    "UNDERAGE": str(_("Applicant under the minimum age")),
    "RESTRICTED_COUNTRY": str(_("Country not served")),
    "PROVIDER_ERROR_RESOLVED": str(_("Provider error resolved by reviewer")),
    "OTHER": str(_("Other (see comment)")),
}


def reason_codes() -> dict[str, str]:
    return {**BUILTIN_REASON_CODES, **dict(kyc_settings.REASON_CODES)}


def reason_choices() -> list[tuple[str, str]]:
    return sorted(reason_codes().items(), key=lambda item: item[1])


def normalise_reason(provider_code: str, provider_map: Mapping[str, str] | None = None) -> str:
    """The catalogue code for a provider's reason: ``provider_map`` (the backend's) with the site's
    ``PROVIDER_REASON_MAP`` over it; a code already in the catalogue stands for itself, and one nobody mapped
    becomes ``OTHER`` (the reviewer's comment then carries the detail)."""
    code = str(provider_code).strip().upper()
    mapping = {**(provider_map or {}), **dict(kyc_settings.PROVIDER_REASON_MAP)}
    catalogue = reason_codes()
    if code in mapping and mapping[code] in catalogue:
        return mapping[code]
    return code if code in catalogue else "OTHER"


def normalise_reasons(provider_codes: Iterable[str], provider_map: Mapping[str, str] | None = None) -> list[str]:
    """Distinct catalogue codes for a provider's reasons, in the provider's order."""
    seen: list[str] = []
    for code in provider_codes:
        normalised = normalise_reason(code, provider_map)
        if normalised not in seen:
            seen.append(normalised)
    return seen
