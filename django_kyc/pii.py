"""Which fields are personal data, and who may see them: one rule for the admin and the API alike."""

from __future__ import annotations

from typing import Any

#: Staff with this permission see applicants' personal data; others work from references and statuses.
PII_PERMISSION = "django_kyc.view_applicant_pii"

#: Applicant fields that identify a person.
APPLICANT_PII_FIELDS = (
    "first_name",
    "middle_name",
    "last_name",
    "date_of_birth",
    "email",
    "phone",
    "address_line",
    "city",
    "postal_code",
)

#: Document fields that identify a person.
DOCUMENT_PII_FIELDS = ("number",)


def can_view_pii(user: Any) -> bool:
    return bool(user.is_authenticated and user.has_perm(PII_PERMISSION))
