"""Shared admin pieces: read-only inlines, a read-only model admin for provider-sourced data, PII masking."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from django_kyc import pii
from django_kyc.pii import APPLICANT_PII_FIELDS, DOCUMENT_PII_FIELDS

__all__ = ["APPLICANT_PII_FIELDS", "DOCUMENT_PII_FIELDS", "HIDDEN", "can_view_pii"]

HIDDEN = "•••"


def can_view_pii(request: HttpRequest) -> bool:
    return pii.can_view_pii(request.user)


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
