"""Signals the site can listen to. All are sent after the transaction that caused them commits."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.dispatch import Signal

#: kwargs: verification, from_status, to_status, actor_type, source
verification_status_changed = Signal()
#: kwargs: verification, status (a terminal status: approved, declined, expired, cancelled)
verification_completed = Signal()
#: kwargs: applicant, from_status, to_status
applicant_status_changed = Signal()
#: kwargs: document, from_status, to_status
document_status_changed = Signal()
#: kwargs: aml_check, from_status, to_status
aml_check_status_changed = Signal()
#: kwargs: backend (alias; "" when the alias is not a configured backend), reason (short text, never the
#: body), code (a RejectionReason value). Sent for every refused delivery, the view's refusals (wrong method,
#: size, empty body, unknown endpoint) as well as the backend's; at once, as a refusal has no transaction.
webhook_rejected = Signal()
#: kwargs: event (a WebhookEvent that ran out of attempts)
webhook_failed = Signal()
#: kwargs: applicant, aml_check (the re-screening), risk_level (now), previous_risk_level, reason
#: ("screening_hit"). A re-screening's match was confirmed: the applicant's risk was raised to what the match
#: implies and their case needs a periodic review now (services.rescreening.open_screening_review).
screening_review_opened = Signal()
#: kwargs: delivery (an outbound event Delivery that ran out of attempts: state ``failed``)
outbound_delivery_failed = Signal()
#: kwargs: endpoint (an event Endpoint just disabled), reason (why, e.g. it answered 410 Gone)
outbound_endpoint_disabled = Signal()
#: kwargs: applicant, reason (a ReviewReason value), due_at. Sent once per review, when its notice period opens
#: (``REVIEW_NOTICE_DAYS`` before it falls due): the moment to e-mail the person to verify again.
review_due = Signal()
#: kwargs: applicant, reason (a ReviewReason value). Sent when a review or an identity document lapses and the
#: applicant leaves ``verified`` (``applicant_status_changed`` is sent too).
reverification_required = Signal()


def send_after_commit(signal: Signal, sender: type, **kwargs: Any) -> None:
    """Send ``signal`` once the current transaction commits (at once outside one): receivers never hear of a
    change that rolled back."""
    transaction.on_commit(lambda: signal.send(sender=sender, **kwargs))
