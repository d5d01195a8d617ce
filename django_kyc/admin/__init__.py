"""Admin screens for compliance reviewers, one module per model group."""

from __future__ import annotations

from django_kyc.admin import (
    aml,
    applicant,
    audit,
    dashboard,
    dismissal,
    document,
    due_review,
    outbound,
    retention,
    review,
    sanctions,
    verification,
    webhook,
)

__all__ = [
    "aml",
    "applicant",
    "audit",
    "dashboard",
    "dismissal",
    "document",
    "due_review",
    "outbound",
    "retention",
    "review",
    "sanctions",
    "verification",
    "webhook",
]
