"""What a submission costs the database: the statements one Provide submission makes, end to end.

A submission is three steps (claim, provider call with its checkpoints, record); every statement left is
there for crash safety or the audit trail. Measured 25 before the claim became one compare-and-set UPDATE
(no BEGIN, locking read and COMMIT) and the record stopped re-reading and re-locking the row it holds
(no second SELECT ... FOR UPDATE, SAVEPOINT and RELEASE): 20. Pending → processing cannot change the
applicant's aggregate, so the refresh (a locking read of the applicant, the list of its verifications' statuses
and the open-AML-match query) is skipped: 15. Outbound events read the endpoints once per event emitted (the
verification's status change and its document's): 17; then once per transaction, and the claim reads the
applicant with the verification (the backend builds its request from it): 15. With no endpoint subscribed
nothing is written.

An applicant with a document costs 15 (the documents and their files are read for the request, and the record
moves the document to ``submitted`` with its audit row). Without documents the record no longer reads the
documents again: the backend says which it sent (``Submission.documents``), and none sent means nothing to
move: 12 → 11 on PostgreSQL and on SQLite.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_kyc.backends.provide import ProvideClient
from django_kyc.models import AuditEvent, Document, Verification
from django_kyc.services import submission
from django_kyc.status import DocumentStatus, VerificationStatus
from tests.resilience.providers import new_applicant, provider
from tests.support.factories import make_verification

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_provide_submission_takes_fifteen_statements(make_applicant: Any) -> None:
    with provider("provide") as (_hooks, _server):
        verification = make_verification(new_applicant(make_applicant, None), backend="contract")
        with CaptureQueriesContext(connection) as queries:
            submission.submit_verification(verification.pk)
    verification.refresh_from_db()
    assert verification.status == VerificationStatus.PROCESSING
    assert (verification.attempts, verification.next_attempt_at) == (1, None)
    assert AuditEvent.objects.filter(object_id=str(verification.pk), to_status="processing").count() == 1
    statements = [query["sql"].split(" ", 1)[0] for query in queries.captured_queries]
    assert len(statements) == 15, statements
    assert statements.count("SAVEPOINT") == 0


def test_without_documents_the_record_reads_no_documents(make_applicant: Any) -> None:
    with provider("provide") as (_hooks, _server):
        applicant = make_applicant(last_name="Smith", with_document=False)
        verification = make_verification(applicant, backend="contract")
        with CaptureQueriesContext(connection) as queries:
            submission.submit_verification(verification.pk)
    verification.refresh_from_db()
    assert verification.status == VerificationStatus.PROCESSING
    assert AuditEvent.objects.filter(object_id=str(verification.pk), to_status="processing").count() == 1
    sql = [query["sql"] for query in queries.captured_queries]
    # one read of the documents (the request's), none in the record
    assert sum('FROM "django_kyc_document"' in text for text in sql) == 1, sql
    assert len(sql) == 11, sql


def test_a_document_uploaded_during_the_call_stays_uploaded(
    make_applicant: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the documents the application was built from become ``submitted``: one uploaded while the provider
    call was under way was never sent, and is left for the next submission."""
    applicant = new_applicant(make_applicant, None)
    sent = Document.objects.get(applicant=applicant)
    late: list[Document] = []
    create = ProvideClient.create_application

    def upload_during_the_call(client: ProvideClient, body: Any) -> dict[str, Any]:
        late.append(Document.objects.create(applicant=applicant, type="selfie"))
        return create(client, body)

    monkeypatch.setattr(ProvideClient, "create_application", upload_during_the_call)
    with provider("provide") as (_hooks, _server):
        verification = make_verification(applicant, backend="contract")
        submission.submit_verification(verification.pk)
    verification.refresh_from_db()
    assert verification.status == VerificationStatus.PROCESSING
    sent.refresh_from_db()
    late[0].refresh_from_db()
    assert (sent.status, late[0].status) == (DocumentStatus.SUBMITTED, DocumentStatus.UPLOADED)
    assert AuditEvent.objects.filter(object_id=str(sent.pk), to_status="submitted").count() == 1
    assert not AuditEvent.objects.filter(object_id=str(late[0].pk), to_status="submitted").exists()


def test_two_claims_of_one_attempt_let_one_win(make_applicant: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The claim is a compare-and-set: a second claim that read the row before the first one wrote it finds
    nothing to update, as a second locking read used to find the attempt already taken."""
    verification = make_verification(new_applicant(make_applicant, None), backend="sandbox")
    read_before = Verification.objects.get(pk=verification.pk)
    first = submission._claim_attempt(verification.pk)
    assert first is not None
    assert first.attempts == 1
    monkeypatch.setattr(Verification.objects, "get", lambda **_lookup: read_before)
    assert submission._claim_attempt(verification.pk) is None
    monkeypatch.undo()
    verification.refresh_from_db()
    assert (verification.attempts, verification.next_attempt_at) == (1, first.next_attempt_at)
