"""The catalogue of reason codes reviewers pick from, extended by ``DJANGO_KYC["REASON_CODES"]``."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from django_kyc.conf import kyc_settings

BUILTIN_REASON_CODES: dict[str, str] = {
    "VERIFIED_MANUALLY": str(_("Verified manually by a reviewer")),
    "DOCUMENT_UNREADABLE": str(_("Document unreadable or low quality")),
    "DOCUMENT_EXPIRED": str(_("Document expired")),
    "DOCUMENT_UNSUPPORTED": str(_("Document type not accepted")),
    "DATA_MISMATCH": str(_("Data does not match the document")),
    "SELFIE_MISMATCH": str(_("Selfie does not match the document")),
    "SUSPECTED_FRAUD": str(_("Suspected fraud or tampering")),
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
