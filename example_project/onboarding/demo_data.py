"""Demo accounts and sample applicants in every verification status.

Statuses are reached only through django_kyc's services, the way production data reaches them: the
submission service calls the sandbox backend, the sandbox's signed webhooks go through the webhook inbox
(``services.webhooks.receive`` then ``process``), and reviewer decisions go through ``services.review``.
So every sample has a real audit timeline, inbox rows and document statuses, and nothing here writes a
``status`` field.

The work runs in this process rather than waiting for a qcluster, so the command is quick and
deterministic. The services still enqueue their follow-up tasks on commit; when the cluster starts, those
find the work already done and do nothing, because every django_kyc task is idempotent. Two samples are
left to the cluster on purpose: *pending* (its next retry is due, so the sweeper moves it on) and
*processing* (no webhook comes, so polling finds the decision after ``POLL_AFTER_SECONDS``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from django_kyc.backends import get_backend
from django_kyc.backends.base import InboundWebhook, ProviderState
from django_kyc.backends.sandbox import SIGNATURE_HEADER, SandboxBackend
from django_kyc.models import Applicant, Document, DocumentFile, Verification, WebhookEvent, WebhookState
from django_kyc.models.document import DocumentSide, DocumentType
from django_kyc.services import aml, review, submission, webhooks
from django_kyc.services.audit import Change, audit
from django_kyc.status import Actor, AuditAction, Source, VerificationStatus
from example_project.onboarding.images import identity_card_png

#: Who the sample data is attributed to in the audit timeline.
SEEDER = Change(actor_type=Actor.SYSTEM, source=Source.SYSTEM, label="kyc_demo", reason="demo sample data")
EXTERNAL_ID_PREFIX = "kyc-demo:"


@dataclass(frozen=True)
class Account:
    username: str
    password: str
    superuser: bool
    created: bool


def ensure_account(username: str, password: str, *, superuser: bool) -> Account:
    """Create the account once; an existing one keeps its password (someone may have changed it)."""
    user_model = get_user_model()
    if user_model._default_manager.filter(username=username).exists():
        return Account(username, password, superuser, created=False)
    if superuser:
        user_model._default_manager.create_superuser(
            username=username, email=f"{username}@example.com", password=password
        )
    else:
        user_model._default_manager.create_user(username=username, email=f"{username}@example.com", password=password)
    return Account(username, password, superuser, created=True)


# --- the pieces each sample is built from ----------------------------------------------------------------


class Seeder:
    """Drives one sample through the services. ``reviewer`` is the superuser who makes the decisions."""

    def __init__(self, reviewer: Any) -> None:
        self.reviewer = reviewer

    def applicant(self, sample: Sample) -> Applicant:
        applicant = Applicant.objects.create(
            external_id=sample.external_id,
            first_name=sample.first_name,
            last_name=sample.last_name,
            date_of_birth=sample.date_of_birth,
            nationality=sample.nationality,
            email=f"{sample.first_name}.{sample.last_name}@example.com".lower().replace(" ", ""),
        )
        audit(SEEDER, obj=applicant, applicant_id=applicant.pk, action=AuditAction.CREATED, to_status=applicant.status)
        image = identity_card_png(sample.external_id)
        document = Document.objects.create(
            applicant=applicant,
            type=DocumentType.PASSPORT,
            number="X" + hashlib.sha256(sample.external_id.encode()).hexdigest()[:8].upper(),
            issuing_country=sample.nationality,
        )
        row = DocumentFile(
            document=document,
            side=DocumentSide.SINGLE,
            sha256=hashlib.sha256(image).hexdigest(),
            content_type="image/png",
            size=len(image),
        )
        row.file.save("upload.png", ContentFile(image), save=False)
        row.save()
        audit(SEEDER, obj=document, applicant_id=applicant.pk, action=AuditAction.UPLOADED, to_status=document.status)
        return applicant

    def start(self, applicant: Applicant, backend: str) -> Verification:
        """What ``POST applicants/{id}/verifications/`` does: a pending verification, submission queued."""
        return submission.start_verification(applicant, SEEDER, backend=backend)

    def submit(self, verification: Verification) -> Verification:
        """Run the submission task's body here instead of in a worker."""
        submission.submit_verification(str(verification.pk))
        return self.fresh(verification)

    def provider_reports(self, verification: Verification, state: ProviderState | None = None) -> Verification:
        """The sandbox sends a signed webhook (its decision by default); the inbox stores and applies it.

        The delivery is built and signed exactly as the sandbox's back-office task does, then handed to
        ``services.webhooks.receive`` (the same function the webhook view calls), so authentication,
        de-duplication and processing are the real ones.
        """
        backend = get_backend(verification.backend)
        assert isinstance(backend, SandboxBackend)
        verification = self.fresh(verification)
        body = backend.build_event(verification, state or backend.decided_state(verification))
        webhooks.receive(
            backend.alias,
            InboundWebhook(
                body=body,
                headers={"Content-Type": "application/json", SIGNATURE_HEADER: backend.sign(body)},
                remote_addr="127.0.0.1",
            ),
        )
        for pk in WebhookEvent.objects.filter(
            backend=backend.alias,
            provider_ref=verification.provider_verification_id,
            state=WebhookState.RECEIVED,
        ).values_list("pk", flat=True):
            webhooks.process(pk)
        return self.fresh(verification)

    def decide(self, verification: Verification, decision: str, reason_code: str, comment: str) -> Verification:
        review.decide(
            verification.pk,
            decision,
            user=self.reviewer,
            reason_code=reason_code,
            comment=comment,
            source=Source.SYSTEM,
        )
        return self.fresh(verification)

    @staticmethod
    def fresh(verification: Verification) -> Verification:
        return Verification.objects.select_related("applicant").get(pk=verification.pk)


# --- the samples ---------------------------------------------------------------------------------------

Recipe = Callable[[Seeder, Applicant], Verification]


def _pending(seeder: Seeder, applicant: Applicant) -> Verification:
    # "flaky": the first submission attempt fails with a simulated 503 and is scheduled for a retry.
    return seeder.submit(seeder.start(applicant, "sandbox"))


def _awaiting_user(seeder: Seeder, applicant: Applicant) -> Verification:
    return seeder.submit(seeder.start(applicant, "sandbox_hosted"))


def _processing(seeder: Seeder, applicant: Applicant) -> Verification:
    # "silent": the sandbox never sends this decision; only polling will find it.
    return seeder.submit(seeder.start(applicant, "sandbox"))


def _provider_decides(seeder: Seeder, applicant: Applicant) -> Verification:
    return seeder.provider_reports(seeder.submit(seeder.start(applicant, "sandbox")))


def _reviewer_approves(seeder: Seeder, applicant: Applicant) -> Verification:
    verification = _provider_decides(seeder, applicant)  # lands in review
    return seeder.decide(verification, "approve", "VERIFIED_MANUALLY", "Checked the passport photo against the selfie.")


def _expired(seeder: Seeder, applicant: Applicant) -> Verification:
    verification = _awaiting_user(seeder, applicant)
    return seeder.provider_reports(
        verification,
        ProviderState(status=VerificationStatus.EXPIRED, provider_status="expired", occurred_at=timezone.now()),
    )


def _cancelled(seeder: Seeder, applicant: Applicant) -> Verification:
    verification = _awaiting_user(seeder, applicant)
    return seeder.decide(verification, "cancel", "OTHER", "The applicant asked us to stop the check.")


def _error(seeder: Seeder, applicant: Applicant) -> Verification:
    # "error": the sandbox rejects the submission with a permanent (HTTP 400) error; no retry.
    return seeder.submit(seeder.start(applicant, "sandbox"))


def _approved_with_aml_hit(seeder: Seeder, applicant: Applicant) -> Verification:
    verification = _provider_decides(seeder, applicant)
    check = aml.start_check(applicant, SEEDER, backend="sandbox")
    aml.run_check(str(check.pk))  # "pep" in the name: a potential match for a reviewer to resolve
    return verification


@dataclass(frozen=True)
class Sample:
    key: str
    expected: str
    first_name: str
    last_name: str
    nationality: str
    date_of_birth: date
    recipe: Recipe
    note: str

    @property
    def external_id(self) -> str:
        return f"{EXTERNAL_ID_PREFIX}{self.key}"


V = VerificationStatus
SAMPLES: tuple[Sample, ...] = (
    Sample(
        key="pending",
        expected=V.PENDING,
        first_name="Fiona",
        last_name="Flaky",
        nationality="IE",
        date_of_birth=date(1991, 3, 14),
        recipe=_pending,
        note="attempt 1 failed (503); once qcluster runs, the sweeper retries it and it is approved",
    ),
    Sample(
        key="awaiting_user",
        expected=V.AWAITING_USER,
        first_name="Aiko",
        last_name="Tanaka",
        nationality="JP",
        date_of_birth=date(1988, 7, 2),
        recipe=_awaiting_user,
        note="hosted flow; its capture link is shown on the verification in admin",
    ),
    Sample(
        key="processing",
        expected=V.PROCESSING,
        first_name="Sam",
        last_name="Silent",
        nationality="GB",
        date_of_birth=date(1979, 11, 23),
        recipe=_processing,
        note="no webhook will come; polling finds the decision 15 minutes after submission",
    ),
    Sample(
        key="review",
        expected=V.REVIEW,
        first_name="Rita",
        last_name="Review",
        nationality="ES",
        date_of_birth=date(1995, 1, 30),
        recipe=_provider_decides,
        note="waits in the review queue",
    ),
    Sample(
        key="resubmission_requested",
        expected=V.RESUBMISSION_REQUESTED,
        first_name="Rob",
        last_name="Resubmit",
        nationality="DE",
        date_of_birth=date(1983, 5, 5),
        recipe=_provider_decides,
        note="document unreadable (DOCUMENT_UNREADABLE)",
    ),
    Sample(
        key="approved",
        expected=V.APPROVED,
        first_name="Olivia",
        last_name="Okafor",
        nationality="NG",
        date_of_birth=date(1990, 9, 9),
        recipe=_provider_decides,
        note="approved by the provider",
    ),
    Sample(
        key="approved_by_reviewer",
        expected=V.APPROVED,
        first_name="Paul",
        last_name="Reviewsmith",
        nationality="FR",
        date_of_birth=date(1972, 12, 1),
        recipe=_reviewer_approves,
        note="sent to review by the provider, approved by admin (VERIFIED_MANUALLY)",
    ),
    Sample(
        key="approved_aml_hit",
        expected=V.APPROVED,
        first_name="Pia",
        last_name="Pepperdine",
        nationality="IT",
        date_of_birth=date(1969, 4, 17),
        recipe=_approved_with_aml_hit,
        note="approved; its AML screening has a potential PEP match",
    ),
    Sample(
        key="declined",
        expected=V.DECLINED,
        first_name="Dan",
        last_name="Decline",
        nationality="US",
        date_of_birth=date(1986, 2, 11),
        recipe=_provider_decides,
        note="document rejected as tampered (DOCUMENT_TAMPERED)",
    ),
    Sample(
        key="expired",
        expected=V.EXPIRED,
        first_name="Eve",
        last_name="Easton",
        nationality="CA",
        date_of_birth=date(1999, 6, 21),
        recipe=_expired,
        note="hosted flow never finished; the provider reported the session expired",
    ),
    Sample(
        key="cancelled",
        expected=V.CANCELLED,
        first_name="Carl",
        last_name="Lindqvist",
        nationality="SE",
        date_of_birth=date(1977, 8, 8),
        recipe=_cancelled,
        note="hosted flow cancelled by admin (reason OTHER)",
    ),
    Sample(
        key="error",
        expected=V.ERROR,
        first_name="Erin",
        last_name="Error",
        nationality="AU",
        date_of_birth=date(1993, 10, 3),
        recipe=_error,
        note="the provider rejected the submission (HTTP 400); in the review queue for a retry",
    ),
)


@dataclass(frozen=True)
class SampleResult:
    sample: Sample
    applicant: Applicant
    status: str
    created: bool


def ensure_samples(reviewer: Any) -> list[SampleResult]:
    """Create the samples that do not exist yet; each one is all-or-nothing (one transaction)."""
    seeder = Seeder(reviewer)
    results = []
    for sample in SAMPLES:
        existing = Applicant.objects.filter(external_id=sample.external_id).first()
        if existing is not None:
            latest = existing.verifications.order_by("-created_at").first()
            results.append(SampleResult(sample, existing, latest.status if latest else "-", created=False))
            continue
        with transaction.atomic():
            applicant = seeder.applicant(sample)
            verification = sample.recipe(seeder, applicant)
        results.append(SampleResult(sample, applicant, verification.status, created=True))
    return results
