"""The lists backend's evidence on a hit, as rows a reviewer reads: which listed name matched which form of
the applicant's name, on which list and version, and the sub-scores against the threshold.

Other backends' details stay the generic key/value rows of :func:`django_kyc.admin.case_data.evidence`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _


def is_lists_evidence(details: Mapping[str, Any]) -> bool:
    return str(details.get("algorithm", "")).startswith("lists-") and "matched_name" in details


def _signed(value: Any) -> str:
    number = float(value or 0)
    return f"{number:+.2f}" if number else "0"


def lists_evidence(details: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``details`` of a lists hit (:meth:`django_kyc.sanctions.matching.Match.details`) as ``(label, text)``."""
    scores = details.get("scores") or {}
    dob = details.get("dob") or {}
    nationality = details.get("nationality") or {}
    kind = _("weak alias") if details.get("matched_name_weak") else str(details.get("matched_name_type", ""))
    rows = [
        (_("Matched name"), f"{details.get('matched_name', '')} ({kind})"),
        (_("Applicant's name"), str(details.get("applicant_name", ""))),
        (
            _("List entry"),
            _("%(list)s, id %(id)s (version %(version)s, loaded %(loaded)s)")
            % {
                "list": details.get("list", ""),
                "id": details.get("source_id", ""),
                "version": details.get("list_version", "-"),
                "loaded": details.get("list_loaded_at") or "-",
            },
        ),
        (_("Name score"), f"{float(scores.get('name', 0)):.2f}"),
        (
            _("Date of birth"),
            f"{_signed(scores.get('dob'))} ({dob.get('verdict', '-')} {dob.get('listed', '')})".strip(),
        ),
        (
            _("Nationality"),
            f"{_signed(scores.get('nationality'))} ({nationality.get('verdict', '-')} {nationality.get('listed', '')})",
        ),
        (
            _("Total and threshold"),
            f"{float(scores.get('total', 0)):.2f} / {float(details.get('threshold', 0)):.2f}",
        ),
        (_("Algorithm"), str(details.get("algorithm", ""))),
    ]
    if details.get("weak_alias"):
        rows.append((_("Weak alias also matching"), f"{details['weak_alias']} ({_signed(scores.get('weak_alias'))})"))
    if details.get("programmes"):
        rows.append((_("Programmes"), ", ".join(str(item) for item in details["programmes"])))
    rows.append((_("Content digest"), str(details.get("entity_digest", ""))[:16]))
    return rows
