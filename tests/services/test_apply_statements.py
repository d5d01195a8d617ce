"""What applying a webhook event costs the database: the statements of one provider approval, end to end.

The drain applies every received event through :func:`~django_kyc.services.webhooks.apply`; at 100
deliveries a second its cost is most of the decision latency. An approval was 20 statements; each row it
touches is now read once:

- the verification is matched by the statement that locks it (an event that carries its state needs no read
  before the transaction): 19;
- the review date reads the applicant the aggregate's refresh locked and saved, not a second locking read: 18;
- and the approval it counts from is read by the four columns the date needs, not all of them.

An event that carries no state takes the other path (matched before the transaction, so the provider is
asked with no lock held, then locked by its key); every backend's contract test of a good webhook applies one
of those where its provider sends no state (``tests/backends/contract.py``).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_kyc.models import Applicant, Verification, WebhookEvent, WebhookState
from django_kyc.services import review_policy, transitions, webhooks
from django_kyc.services.audit import Change
from django_kyc.status import ApplicantStatus, Source, VerificationStatus
from tests.support.factories import make_verification
from tests.support.sandbox import sandbox_event

pytestmark = pytest.mark.django_db(transaction=True)


def received_approval(verification: Verification) -> WebhookEvent:
    """An approval as receipt leaves it in the inbox: stored, not applied."""
    event_id = "evt_statements"
    return WebhookEvent.objects.create(
        backend="sandbox",
        event_id=event_id,
        provider_ref=verification.provider_verification_id,
        body=sandbox_event(verification, "approved", timezone.now(), event_id=event_id),
        headers={},
    )


def reads_of(table: str, sql: list[str]) -> list[str]:
    return [text for text in sql if text.startswith("SELECT") and f'FROM "{table}"' in text]


def test_an_approval_reads_each_row_once_in_eighteen_statements(make_applicant: Any) -> None:
    applicant: Applicant = make_applicant()
    verification = make_verification(
        applicant, VerificationStatus.PROCESSING, provider_verification_id="sbx_ver_once", provider_status="processing"
    )
    row = received_approval(verification)

    with CaptureQueriesContext(connection) as queries:
        webhooks.apply(row)

    verification.refresh_from_db()
    applicant.refresh_from_db()
    assert verification.status == VerificationStatus.APPROVED
    assert applicant.status == ApplicantStatus.VERIFIED
    assert applicant.next_review_at is not None  # the review was scheduled from this approval
    assert WebhookEvent.objects.get(pk=row.pk).state == WebhookState.PROCESSED
    sql = [query["sql"] for query in queries.captured_queries]
    if connection.features.has_select_for_update:
        locking = [text for text in sql if text.endswith("FOR UPDATE")]
        # the event, the verification (matched as it is locked), the applicant: each locked once, read once
        assert len(locking) == 3, locking
    assert len(reads_of("django_kyc_applicant", sql)) == 1, sql
    full_reads = [text for text in reads_of("django_kyc_verification", sql) if '"assigned_to_id"' in text]
    assert len(full_reads) == 1, full_reads
    assert len(sql) == 18, sql


def test_a_locked_applicant_is_not_read_again_and_needs_its_transaction(make_applicant: Any) -> None:
    """A decision that refreshed the aggregate hands over the applicant it locked; outside a transaction
    there is no lock to hand over, and passing one is a mistake caught at once."""
    applicant, change = make_applicant(), Change.system(Source.TASK)
    make_verification(applicant, VerificationStatus.APPROVED, decided_at=timezone.now())
    transitions.refresh_applicant(applicant.pk, change)  # verified, as the approval leaves it
    with pytest.raises(TypeError, match="transaction"):
        review_policy.reschedule(applicant.pk, change, locked=applicant)
    with transaction.atomic():
        locked = Applicant.objects.select_for_update().get(pk=applicant.pk)
        with CaptureQueriesContext(connection) as queries:
            review_policy.reschedule(applicant.pk, change, locked=locked)
    assert not [query["sql"] for query in queries if 'FROM "django_kyc_applicant"' in query["sql"]]
    assert Applicant.objects.get(pk=applicant.pk).next_review_at == locked.next_review_at is not None
