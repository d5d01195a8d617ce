"""Models, one module per group; import from here."""

from __future__ import annotations

from django_kyc.models.aml import AmlCheck, AmlHit, AmlQueueItem
from django_kyc.models.applicant import Applicant, ReviewDueItem
from django_kyc.models.audit import AuditEvent
from django_kyc.models.document import Document, DocumentFile
from django_kyc.models.health import Heartbeat
from django_kyc.models.outbound import (
    OPEN_DELIVERY_STATES,
    Delivery,
    DeliveryAttempt,
    DeliveryState,
    Endpoint,
    EndpointSource,
    OutboundEvent,
)
from django_kyc.models.retention import ErasureRequest, ErasureSource, ErasureStatus
from django_kyc.models.review import ProposalStatus, ReviewDecision
from django_kyc.models.sanctions import (
    EntryKind,
    ListEntry,
    ListEntryName,
    ListNameKey,
    ListSource,
    ListVersion,
    NameType,
    SanctionsList,
    ScreeningDismissal,
    VersionStatus,
)
from django_kyc.models.verification import ReviewDashboard, ReviewQueueItem, Verification
from django_kyc.models.webhook import RejectionReason, WebhookEvent, WebhookRejection, WebhookState

__all__ = [
    "OPEN_DELIVERY_STATES",
    "AmlCheck",
    "AmlHit",
    "AmlQueueItem",
    "Applicant",
    "AuditEvent",
    "Delivery",
    "DeliveryAttempt",
    "DeliveryState",
    "Document",
    "DocumentFile",
    "Endpoint",
    "EndpointSource",
    "EntryKind",
    "ErasureRequest",
    "ErasureSource",
    "ErasureStatus",
    "Heartbeat",
    "ListEntry",
    "ListEntryName",
    "ListNameKey",
    "ListSource",
    "ListVersion",
    "NameType",
    "OutboundEvent",
    "ProposalStatus",
    "RejectionReason",
    "ReviewDashboard",
    "ReviewDecision",
    "ReviewDueItem",
    "ReviewQueueItem",
    "SanctionsList",
    "ScreeningDismissal",
    "Verification",
    "VersionStatus",
    "WebhookEvent",
    "WebhookRejection",
    "WebhookState",
]
