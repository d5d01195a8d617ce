from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from django_kyc.backends.base import KycBackend, ProviderEvent, ProviderState
from django_kyc.status import VerificationStatus
from tests.support.factories import make_verification

pytestmark = pytest.mark.django_db
V = VerificationStatus


class ListingBackend(KycBackend):
    """A provider whose list holds one decision we missed, one we already have, and one stranger."""

    provider = "listing"
    capabilities = frozenset({"reconcile"})
    since_seen: list[datetime | None] = []

    def reconcile(self, since: datetime | None = None) -> Iterator[ProviderEvent]:
        type(self).since_seen.append(since)
        yield ProviderEvent(
            "e1", "sub", provider_ref="sub-missed", state=ProviderState(status=V.APPROVED, provider_status="approved")
        )
        yield ProviderEvent(
            "e2", "sub", provider_ref="sub-known", state=ProviderState(status=V.REVIEW, provider_status="pending")
        )
        yield ProviderEvent(
            "e3", "sub", provider_ref="sub-stranger", state=ProviderState(status=V.DECLINED, provider_status="rejected")
        )


@pytest.fixture
def listing() -> Iterator[None]:
    backends = {**settings.DJANGO_KYC["BACKENDS"], "listing": {"CLASS": f"{__name__}.ListingBackend"}}
    with override_settings(DJANGO_KYC={**settings.DJANGO_KYC, "BACKENDS": backends}):
        yield


def test_reconcile_applies_what_was_missed_and_reports_strangers(listing: None, make_applicant: Any) -> None:
    missed = make_verification(make_applicant(), V.PROCESSING, backend="listing", provider_verification_id="sub-missed")
    known = make_verification(
        make_applicant(last_name="B"),
        V.REVIEW,
        backend="listing",
        provider_verification_id="sub-known",
        provider_status="pending",
    )
    out = io.StringIO()
    call_command("kyc_reconcile", "listing", "--since", "2026-01-01", stdout=out)
    missed.refresh_from_db()
    known.refresh_from_db()
    assert missed.status == V.APPROVED
    assert known.status == V.REVIEW
    assert "Reconciled 3 submission(s): applied 1, unchanged 1, unmatched 1." in out.getvalue()
    assert ListingBackend.since_seen[-1] is not None
    assert ListingBackend.since_seen[-1].isoformat().startswith("2026-01-01")


def test_reconcile_names_backends_that_cannot(make_applicant: Any) -> None:
    with pytest.raises(CommandError, match="reconciliation"):
        call_command("kyc_reconcile", "sandbox", stdout=io.StringIO())


def test_reconcile_rejects_a_bad_date(listing: None) -> None:
    with pytest.raises(CommandError, match="--since"):
        call_command("kyc_reconcile", "listing", "--since", "yesterday", stdout=io.StringIO())
