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


#: The built-in codes that make sense for each decision, so a reviewer approving is not offered "Suspected
#: fraud". Decisions not listed (and the site's own ``REASON_CODES``, whose meaning we cannot know) are offered
#: every code. This narrows what forms offer; the review service accepts any catalogue code, so a reason chosen
#: through the API or the shell is never refused for being "the wrong kind".
DECISION_REASON_CODES: dict[str, tuple[str, ...]] = {
    "approve": ("VERIFIED_MANUALLY", "PROVIDER_ERROR_RESOLVED", "OTHER"),
    "decline": (
        "DATA_MISMATCH",
        "DOCUMENT_EDITED",
        "DOCUMENT_EXPIRED",
        "DOCUMENT_UNSUPPORTED",
        "SELFIE_MISMATCH",
        "MULTIPLE_PERSONS",
        "SUSPECTED_FRAUD",
        "SUSPECTED_COERCION",
        "DUPLICATE_APPLICANT",
        "COMPROMISED_PERSON",
        "SUSPICIOUS_NETWORK",
        "ATTEMPTS_EXHAUSTED",
        "SANCTIONS_MATCH",
        "UNDERAGE",
        "RESTRICTED_COUNTRY",
        "OTHER",
    ),
    "request_resubmission": (
        "DOCUMENT_UNREADABLE",
        "DOCUMENT_DAMAGED",
        "DOCUMENT_INCOMPLETE",
        "DOCUMENT_EXPIRED",
        "DOCUMENT_UNSUPPORTED",
        "ADDITIONAL_DOCUMENT_REQUIRED",
        "DATA_MISMATCH",
        "SELFIE_MISSING",
        "SELFIE_MISMATCH",
        "OTHER",
    ),
    "retry": ("PROVIDER_ERROR_RESOLVED", "OTHER"),
    # AML hits: confirming a match, or dismissing one
    "true_positive": ("SANCTIONS_MATCH", "COMPROMISED_PERSON", "OTHER"),
    "false_positive": ("VERIFIED_MANUALLY", "DATA_MISMATCH", "OTHER"),
}


def reason_codes() -> dict[str, StrOrPromise]:
    return {**BUILTIN_REASON_CODES, **dict(kyc_settings.REASON_CODES)}


def reason_choices(decision: str = "") -> list[tuple[str, StrOrPromise]]:
    """The catalogue as ``(code, label)`` pairs sorted by label; with a ``decision``, only the codes that fit it
    (see :data:`DECISION_REASON_CODES`) plus the site's own codes. Sorted by label in the active language."""
    codes = reason_codes()
    fitting = DECISION_REASON_CODES.get(decision)
    if fitting is not None:
        site = set(dict(kyc_settings.REASON_CODES))
        codes = {code: label for code, label in codes.items() if code in fitting or code in site}
    return sorted(codes.items(), key=lambda item: str(item[1]))


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
