"""The sandbox's back office: after a submission it waits, decides by the rules and sends signed webhooks.

It runs as the django-q2 task ``deliver_sandbox_decision`` (queued by
:meth:`~django_kyc.backends.sandbox.SandboxBackend.schedule_decision`), standing in for the provider's own
servers; the deliveries go through the webhook endpoint's logic like any provider's.
"""

from __future__ import annotations

import time

from django.utils import timezone

from django_kyc.backends.sandbox.backend import SandboxBackend
from django_kyc.backends.values import ProviderState
from django_kyc.status import VerificationStatus


def deliver_decision(alias: str, verification_id: str, chosen: str = "") -> None:
    """Task body: a ``processing`` event if the verification is still waiting, then, after ``DECISION_DELAY``,
    the decision (the rules', or the outcome ``chosen`` on the capture page)."""
    from django_kyc.backends.registry import get_backend
    from django_kyc.models import Verification

    backend = get_backend(alias)
    if not isinstance(backend, SandboxBackend):
        raise TypeError(f"backend {alias!r} is not a sandbox backend")
    verification = Verification.objects.select_related("applicant").filter(pk=verification_id).first()
    if verification is None:
        return
    if verification.status in (VerificationStatus.PENDING, VerificationStatus.AWAITING_USER):
        backend.deliver(
            backend.build_event(
                verification,
                ProviderState(
                    status=VerificationStatus.PROCESSING,
                    provider_status="processing",
                    occurred_at=timezone.now(),
                ),
            )
        )
    if backend.decision_delay > 0:
        # capped well below any sensible Q_CLUSTER["timeout"] so the task is never killed mid-sleep
        time.sleep(min(backend.decision_delay, 30.0))
    backend.deliver(backend.build_event(verification, backend.decided_state(verification, chosen)))
