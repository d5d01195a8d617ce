"""The fake KYCAID's request checks: each failing parameter with KYCAID's kind of message (HTTP 422)."""

from __future__ import annotations

import re
from collections.abc import Container, Mapping
from datetime import date
from typing import Any

from django_kyc.testing.kycaid.vocabulary import DOCUMENT_TYPES, FILE_SLOTS

Errors = list[tuple[str, str]]


def check_date(errors: Errors, data: Mapping[str, Any], name: str, label: str) -> None:
    value = data.get(name)
    if value in (None, ""):
        return
    try:
        date.fromisoformat(str(value))
    except ValueError:
        errors.append((name, f"{label} must be a date in YYYY-MM-DD format"))


def applicant_errors(data: Mapping[str, Any], *, creating: bool) -> Errors:
    errors: Errors = []
    kind = data.get("type", "" if creating else "PERSON")
    if creating and not kind:
        errors.append(("type", "Type is required"))
    elif kind not in ("PERSON", "COMPANY"):
        errors.append(("type", "Type must be PERSON or COMPANY"))
    if creating and kind == "PERSON":
        for name, label in (("first_name", "First name"), ("last_name", "Last name")):
            if not str(data.get(name) or "").strip():
                errors.append((name, f"{label} is required"))
    if creating and kind == "COMPANY" and not data.get("company_name"):
        errors.append(("company_name", "Company name is required"))
    check_date(errors, data, "dob", "Date of birth")
    if data.get("gender") not in (None, "", "M", "F"):
        errors.append(("gender", "Gender must be M or F"))
    for name in ("nationality", "residence_country"):
        value = data.get(name)
        if value not in (None, "") and not re.fullmatch(r"[A-Z]{2}", str(value)):
            errors.append((name, "Country must be an ISO 3166-1 alpha-2 code"))
    if len(str(data.get("external_applicant_id") or "")) > 50:
        errors.append(("external_applicant_id", "External applicant ID must be at most 50 characters"))
    if data.get("email") not in (None, "") and "@" not in str(data["email"]):
        errors.append(("email", "Email is invalid"))
    return errors


def document_errors(
    data: Mapping[str, Any], *, creating: bool, applicants: Container[str], files: Container[str]
) -> Errors:
    """``applicants`` / ``files``: the ids that exist, for the references a document makes."""
    errors: Errors = []
    if creating:
        if not data.get("applicant_id"):
            errors.append(("applicant_id", "Applicant ID is required"))
        elif data["applicant_id"] not in applicants:
            errors.append(("applicant_id", "Applicant not found"))
        if not data.get("type"):
            errors.append(("type", "Type is required"))
    if data.get("type") and data["type"] not in DOCUMENT_TYPES:
        errors.append(("type", "Type is invalid"))
    for slot in FILE_SLOTS:
        if data.get(slot) and data[slot] not in files:
            errors.append((slot, "File not found"))
    for name, label in (("issue_date", "Issue date"), ("expiry_date", "Expiry date")):
        check_date(errors, data, name, label)
    if len(str(data.get("document_number") or "")) > 50:
        errors.append(("document_number", "Document number must be at most 50 characters"))
    return errors
