"""The catalogue of reason codes reviewers pick from, extended by ``DJANGO_KYC["REASON_CODES"]``.

Providers report decline reasons in their own vocabularies; :func:`normalise_reasons` folds them onto this
catalogue, with the map the provider's backend states (KYCAID's is ``backends.kycaid.statuses.CATALOGUE_CODES``)
and ``DJANGO_KYC["PROVIDER_REASON_MAP"]`` over it, so a reviewer deciding on a provider's findings picks from one
list, and statistics across backends compare like with like.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from django_kyc.conf import kyc_settings

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise

#: Labels stay lazy: they are read in the language of each request, not the one active at import.
BUILTIN_REASON_CODES: dict[str, StrOrPromise] = {
    "VERIFIED_MANUALLY": _("Verified manually by a reviewer"),
    "DOCUMENT_UNREADABLE": _("Document unreadable or low quality"),
    "DOCUMENT_DAMAGED": _("Document damaged"),
    "DOCUMENT_INCOMPLETE": _("Document incomplete (a side or page missing)"),
    "DOCUMENT_EXPIRED": _("Document expired"),
    "DOCUMENT_UNSUPPORTED": _("Document type not accepted"),
    "DOCUMENT_EDITED": _("Document edited or tampered with"),
    "ADDITIONAL_DOCUMENT_REQUIRED": _("Additional document required (e.g. tax id)"),
    "DATA_MISMATCH": _("Data does not match the document"),
    "SELFIE_MISSING": _("Selfie missing"),
    "SELFIE_MISMATCH": _("Selfie does not match the document"),
    "MULTIPLE_PERSONS": _("More than one person in the pictures"),
    "SUSPECTED_FRAUD": _("Suspected fraud or tampering"),
    "SUSPECTED_COERCION": _("Applicant appears to act under compulsion"),
    "DUPLICATE_APPLICANT": _("Duplicate of another applicant"),
    "COMPROMISED_PERSON": _("Person on a blacklist or otherwise compromised"),
    "SUSPICIOUS_NETWORK": _("Anonymising network or IP mismatch"),
    "ATTEMPTS_EXHAUSTED": _("Verification attempts or one-time codes exhausted"),
    "SANCTIONS_MATCH": _("Sanctions or PEP match"),
    "UNDERAGE": _("Applicant under the minimum age"),
    "RESTRICTED_COUNTRY": _("Country not served"),
    "PROVIDER_ERROR_RESOLVED": _("Provider error resolved by reviewer"),
    "OTHER": _("Other (see comment)"),
}


def reason_codes() -> dict[str, StrOrPromise]:
    return {**BUILTIN_REASON_CODES, **dict(kyc_settings.REASON_CODES)}


def reason_choices() -> list[tuple[str, StrOrPromise]]:
    """The catalogue as form choices, sorted by label in the active language."""
    return sorted(reason_codes().items(), key=lambda item: str(item[1]))


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
