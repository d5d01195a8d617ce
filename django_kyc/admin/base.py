"""Shared admin pieces: read-only inlines, a read-only model admin for provider-sourced data, PII masking."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

#: Who may see applicants' personal data. Reviewers without it work from references, statuses and documents.
PII_PERMISSION = "django_kyc.view_applicant_pii"
#: Applicant fields that identify a person; masked for reviewers without :data:`PII_PERMISSION`.
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
HIDDEN = "•••"


def can_view_pii(request: HttpRequest) -> bool:
    return bool(request.user.has_perm(PII_PERMISSION))


def without(fields: Any, hidden: tuple[str, ...]) -> list[Any]:
    return [name for name in fields if name not in hidden]


class ReadOnlyInline(admin.TabularInline):  # type: ignore[type-arg,unused-ignore]
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg,unused-ignore]
    """For rows written only by services (provider data, audit, inbox): viewable, never hand-edited."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
