"""Each capability a backend declares (or leaves out) changes what the core does, whatever its methods do.

The backends here are the sandbox with one capability taken away and every method kept, so each test shows
the core asking :meth:`~django_kyc.backends.base.KycBackend.supports` instead of relying on the backend to
raise ``UnsupportedFeature``.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, ClassVar

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from django_kyc.backends.base import Capability, Option, ProviderEvent
from django_kyc.backends.options import boolean
from django_kyc.backends.sandbox import SandboxBackend
from django_kyc.models import Applicant, AuditEvent, Document, Verification, WebhookEvent
from django_kyc.services import retention, review, submission
from django_kyc.services.audit import Change
from django_kyc.status import AuditAction, DocumentStatus, Source, VerificationStatus
from tests.support.factories import make_verification
from tests.support.kyc_settings import kyc_settings_with, suite_backends
from tests.support.sandbox import SANDBOX_SECRET, sandbox_event, sandbox_signature

V = VerificationStatus
pytestmark = pytest.mark.django_db


class NoWebhooks(SandboxBackend):
    capabilities = SandboxBackend.capabilities - {Capability.WEBHOOKS}


class NoHostedFlow(SandboxBackend):
    capabilities = SandboxBackend.capabilities - {Capability.HOSTED_FLOW}


class NoUpload(SandboxBackend):
    capabilities = SandboxBackend.capabilities - {Capability.DOCUMENT_UPLOAD}


class NoDelete(SandboxBackend):
    capabilities = SandboxBackend.capabilities - {Capability.DELETE}
    deleted: ClassVar[list[Any]] = []

    def delete_applicant(self, applicant: Applicant) -> None:
        type(self).deleted.append(applicant.pk)


class NoReconcile(SandboxBackend):
    listed: ClassVar[int] = 0

    def reconcile(self, since: datetime | None = None) -> Iterator[ProviderEvent]:
        type(self).listed += 1
        return iter(())


class Pushing(SandboxBackend):
    """Takes reviewer decisions, recording what it is told."""

    capabilities = SandboxBackend.capabilities | {Capability.PUSH_DECISION}
    option_specs = (Option("PUSH_DECISIONS", "Push.", coerce=boolean, default=False),)
    pushed: ClassVar[list[tuple[str, str, str]]] = []

    def push_decision(self, verification: Verification, status: str, reason: str = "", reason_code: str = "") -> None:
        type(self).pushed.append((status, reason, reason_code))


def configured(alias: str, cls: type, **options: Any) -> Any:
    backends = suite_backends(
        **{alias: {"CLASS": f"{__name__}.{cls.__name__}", "OPTIONS": {"DECISION_DELAY": 0, **options}}}
    )
    return override_settings(DJANGO_KYC=kyc_settings_with(BACKENDS=backends, USER_SELECTABLE_BACKENDS=[alias]))


def test_without_webhooks_the_endpoint_is_404_even_for_a_valid_delivery(
    make_applicant: Callable[..., Applicant],
) -> None:
    verification = make_verification(make_applicant(), V.PROCESSING, backend="quiet")
    body = sandbox_event(verification, "approved", timezone.now())
    with configured("quiet", NoWebhooks, WEBHOOK_SECRET=SANDBOX_SECRET):
        response = APIClient().post(
            "/kyc/webhooks/quiet/",
            body,
            content_type="application/json",
            HTTP_X_SANDBOX_SIGNATURE=sandbox_signature(body),
        )
    assert response.status_code == 404
    assert not WebhookEvent.objects.exists()


def test_without_a_hosted_flow_the_client_token_endpoint_refuses(
    user: Any, make_applicant: Callable[..., Applicant], client_for: Callable[..., APIClient]
) -> None:
    verification = make_verification(make_applicant(user=user), V.AWAITING_USER, backend="direct")
    with configured("direct", NoHostedFlow, HOSTED_FLOW=True):
        response = client_for(user).post(f"/kyc/api/verifications/{verification.pk}/client-token/")
    assert response.status_code == 400
    assert response.json() == {"detail": "The 'sandbox' backend does not support a hosted flow (client links)."}
    verification.refresh_from_db()
    assert (verification.client_token, verification.client_link) == ("", "")


@pytest.mark.parametrize(
    ("cls", "expected"), [(SandboxBackend, DocumentStatus.SUBMITTED), (NoUpload, DocumentStatus.UPLOADED)]
)
def test_documents_are_submitted_only_to_a_backend_that_sends_them(
    make_applicant: Callable[..., Applicant], django_capture_on_commit_callbacks: Any, cls: type, expected: str
) -> None:
    applicant = make_applicant(last_name="Silent")  # the sandbox sends no decision: the submission is all we see
    with configured("docs", cls), django_capture_on_commit_callbacks(execute=True):
        verification = submission.start_verification(applicant, Change.system(Source.API), backend="docs")
    verification.refresh_from_db()
    assert verification.status == V.PROCESSING, verification.last_error
    assert list(Document.objects.filter(applicant=applicant).values_list("status", flat=True)) == [expected]


def test_without_deletion_erasure_does_not_ask_the_provider_and_says_so(
    make_applicant: Callable[..., Applicant],
) -> None:
    NoDelete.deleted.clear()
    applicant = make_applicant()
    make_verification(applicant, V.CANCELLED, backend="keeper")
    with configured("keeper", NoDelete):
        result = retention.purge(applicant.pk)
    assert NoDelete.deleted == []
    assert result.providers == {"keeper": retention.UNSUPPORTED_ERASURE}
    note = AuditEvent.objects.get(applicant=applicant, action=AuditAction.PROVIDER_ERASURE)
    assert note.reason == f"keeper: {retention.UNSUPPORTED_ERASURE}"


def test_without_reconcile_kyc_reconcile_refuses_before_listing() -> None:
    NoReconcile.listed = 0
    with configured("lister", NoReconcile), pytest.raises(CommandError, match="does not support reconciliation"):
        call_command("kyc_reconcile", "lister", stdout=io.StringIO())
    assert NoReconcile.listed == 0


@pytest.mark.parametrize(("comment", "reason"), [("Looks edited", "Looks edited"), ("", "")])
def test_a_pushed_decision_carries_the_reviewers_reason_and_code(
    make_applicant: Callable[..., Applicant],
    reviewer: Any,
    django_capture_on_commit_callbacks: Any,
    comment: str,
    reason: str,
) -> None:
    Pushing.pushed.clear()
    verification = make_verification(make_applicant(), V.REVIEW, backend="pusher")
    with configured("pusher", Pushing, PUSH_DECISIONS=True), django_capture_on_commit_callbacks(execute=True):
        review.decide(verification.pk, "decline", user=reviewer, reason_code="DOCUMENT_EDITED", comment=comment)
    assert Pushing.pushed == [(V.DECLINED, reason, "DOCUMENT_EDITED")]
    assert AuditEvent.objects.filter(object_id=str(verification.pk), action=AuditAction.DECISION_PUSHED).exists()


def test_push_needs_the_capability_and_the_option(
    make_applicant: Callable[..., Applicant], reviewer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    Pushing.pushed.clear()
    verification = make_verification(make_applicant(), V.REVIEW, backend="pusher")
    with configured("pusher", Pushing), django_capture_on_commit_callbacks(execute=True):  # PUSH_DECISIONS off
        review.decide(verification.pk, "approve", user=reviewer, reason_code="OTHER")
    assert Pushing.pushed == []
