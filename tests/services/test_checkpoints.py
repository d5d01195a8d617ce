"""Checkpoints: what a backend remembers mid-call reaches the database at once, and only reference fields."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from django_kyc.backends.base import UNANSWERED_CREATES
from django_kyc.backends.sandbox import SandboxBackend
from django_kyc.exceptions import TransientProviderError
from django_kyc.models import AmlCheck, Applicant, Document, Verification
from django_kyc.services import checkpoints
from django_kyc.status import AmlStatus, VerificationStatus
from tests.support.factories import make_verification

pytestmark = pytest.mark.django_db


@pytest.fixture
def backend() -> SandboxBackend:
    return SandboxBackend("sandbox", {})


@pytest.fixture
def verification(make_applicant: Callable[..., Applicant]) -> Verification:
    return make_verification(make_applicant(), VerificationStatus.PENDING, provider_data={"kept": 1})


def test_remember_commits_ids_and_merges_provider_data(backend: SandboxBackend, verification: Verification) -> None:
    backend.remember(verification, provider_applicant_id="app-1", provider_data={"session": {"id": "s"}})
    assert (verification.provider_applicant_id, verification.provider_data) == (
        "app-1",
        {"kept": 1, "session": {"id": "s"}},
    )
    stored = Verification.objects.get(pk=verification.pk)
    assert stored.provider_applicant_id == "app-1"
    assert stored.provider_data == {"kept": 1, "session": {"id": "s"}}
    assert stored.status == VerificationStatus.PENDING


def test_remember_refuses_anything_but_references(backend: SandboxBackend, verification: Verification) -> None:
    with pytest.raises(ValueError, match=r"cannot store \['status'\]"):
        backend.remember(verification, status=VerificationStatus.APPROVED)
    with pytest.raises(ValueError, match=r"cannot store \['last_error'\] on a Verification"):
        checkpoints.save_verification(verification, {"last_error": "x"})
    assert Verification.objects.get(pk=verification.pk).status == VerificationStatus.PENDING


def test_a_lost_create_call_stays_unanswered(backend: SandboxBackend, verification: Verification) -> None:
    with pytest.raises(TransientProviderError), backend.creating(verification, "session", "POST /sessions"):
        raise TransientProviderError("timed out")
    [entry] = Verification.objects.get(pk=verification.pk).provider_data[UNANSWERED_CREATES]
    assert (entry["kind"], entry["call"]) == ("session", "POST /sessions")
    with backend.creating(verification, "session", "POST /sessions") as call:
        call.remember(provider_verification_id="ses-2")
    backend.remember(verification, settles="session")
    stored = Verification.objects.get(pk=verification.pk)
    assert stored.provider_verification_id == "ses-2"
    assert UNANSWERED_CREATES not in stored.provider_data


def test_remember_document_commits_the_providers_id(
    backend: SandboxBackend, make_applicant: Callable[..., Applicant]
) -> None:
    document = Document.objects.get(applicant=make_applicant())
    backend.remember_document(document, "doc-9")
    assert document.provider_document_id == "doc-9"
    assert Document.objects.get(pk=document.pk).provider_document_id == "doc-9"


def test_remember_aml_commits_the_search_at_once(
    backend: SandboxBackend, make_applicant: Callable[..., Applicant]
) -> None:
    """A screening's search id is stored before its result is read, so a retried screening reads that search
    instead of paying for another."""
    check = AmlCheck.objects.create(applicant=make_applicant(), backend="sandbox", provider_data={"kept": True})
    backend.remember_aml(check, provider_check_id="aml-1", provider_data={"search": {"id": "aml-1", "type": "WALLET"}})
    assert check.provider_check_id == "aml-1"
    stored = AmlCheck.objects.get(pk=check.pk)
    assert stored.provider_check_id == "aml-1"
    assert stored.provider_data == {"kept": True, "search": {"id": "aml-1", "type": "WALLET"}}
    assert stored.status == AmlStatus.PENDING
    with pytest.raises(ValueError, match=r"cannot store \['status'\] on a AmlCheck"):
        checkpoints.save_aml_check(check, {"status": AmlStatus.CLEAR})


def test_nothing_to_remember_writes_nothing(
    backend: SandboxBackend, verification: Verification, django_assert_num_queries: Any
) -> None:
    unsaved = AmlCheck(applicant_id=verification.applicant_id, backend="sandbox")
    with django_assert_num_queries(0):
        backend.remember(verification)
        backend.remember_aml(unsaved)
