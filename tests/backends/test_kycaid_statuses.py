"""KYCAID's tables on their own: statuses, verdicts, decline reasons, the decline policy, document types.

No HTTP and no database: the functions of ``django_kyc.backends.kycaid.statuses`` and ``.state``, and the
backend's ``map_status`` built from them.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from django_kyc.backends.kycaid import KycaidBackend, reason_codes
from django_kyc.backends.kycaid.state import verification_state
from django_kyc.backends.kycaid.statuses import (
    CATALOGUE_CODES,
    DECLINE_REASONS,
    QUALITY_REASONS,
    DeclinePolicy,
    document_type,
    provider_status,
)
from django_kyc.reasons import normalise_reason
from django_kyc.reasons import reason_codes as catalogue
from django_kyc.status import DocumentStatus, VerificationStatus
from tests.support.kyc_settings import kyc_settings_with

V = VerificationStatus
D = DocumentStatus
OPTIONS = {"API_TOKEN": "t", "FORM_ID": "f"}


def test_status_table_and_unknown_values() -> None:
    backend = KycaidBackend("table", OPTIONS)
    assert backend.map_status("unused", None) == V.AWAITING_USER
    assert backend.map_status("pending", None) == V.PROCESSING
    assert backend.map_status("completed", True) == V.APPROVED
    assert backend.map_status("completed", False) == V.DECLINED
    assert backend.map_status("completed", None) == V.REVIEW
    for raw in ("on_hold", "", "COMPLETED?", "approved"):
        assert backend.map_status(raw, True) == V.REVIEW  # never silently approved
    assert reason_codes(["bad_quality"], [7, 8, 99, True]) == ["BAD_QUALITY", "FAKE_DOCUMENT", "REASON_99"]


@pytest.mark.parametrize("verified", [True, False, None])
def test_before_completion_the_verdict_does_not_count(verified: bool | None) -> None:
    backend = KycaidBackend("table", OPTIONS)
    assert backend.map_status("pending", verified) == V.PROCESSING
    assert backend.map_status("unused", verified) == V.AWAITING_USER


def test_provider_status_keeps_the_verdict_once_completed() -> None:
    assert provider_status("completed", False) == "completed (verified=false)"
    assert provider_status("completed", None) == "completed (verified=null)"
    assert provider_status("pending", None) == "pending"


def test_decline_policy_table() -> None:
    strict = KycaidBackend("strict", OPTIONS)
    lenient = KycaidBackend("lenient", {**OPTIONS, "DECLINE_POLICY": "resubmit_quality"})
    custom = KycaidBackend(
        "custom", {**OPTIONS, "DECLINE_POLICY": "resubmit_quality", "QUALITY_REASONS": ["WRONG_DOB"]}
    )
    quality = ["BAD_QUALITY", "DOCUMENT_INCOMPLETE", "NO_SELFIE", "DOCUMENT_DAMAGED"]
    assert strict.apply_decline_policy(V.DECLINED, quality, None) == V.DECLINED
    assert lenient.apply_decline_policy(V.DECLINED, quality, None) == V.RESUBMISSION_REQUESTED
    assert lenient.apply_decline_policy(V.DECLINED, quality, 2) == V.RESUBMISSION_REQUESTED
    assert lenient.apply_decline_policy(V.DECLINED, quality, 0) == V.DECLINED
    assert lenient.apply_decline_policy(V.DECLINED, [], None) == V.DECLINED
    assert lenient.apply_decline_policy(V.DECLINED, ["BAD_QUALITY", "FRAUDULENT"], None) == V.DECLINED
    assert lenient.apply_decline_policy(V.APPROVED, quality, None) == V.APPROVED
    assert custom.apply_decline_policy(V.DECLINED, ["WRONG_DOB"], None) == V.RESUBMISSION_REQUESTED
    # an empty list configured means the defaults, not "no reason is a quality reason"
    assert KycaidBackend("empty", {**OPTIONS, "QUALITY_REASONS": []}).decline_policy.quality_reasons == QUALITY_REASONS


@pytest.mark.parametrize(
    ("raw", "reasons", "verification", "expected"),
    [
        ("new", [], "", D.SUBMITTED),
        ("valid", [], V.APPROVED, D.ACCEPTED),
        ("invalid", ["FAKE_DOCUMENT"], V.DECLINED, D.REJECTED),
        ("invalid", ["BAD_QUALITY"], V.DECLINED, D.REJECTED),
        ("invalid", ["BAD_QUALITY"], V.RESUBMISSION_REQUESTED, D.RESUBMISSION_REQUESTED),
        ("invalid", ["BAD_QUALITY", "FAKE_DOCUMENT"], V.RESUBMISSION_REQUESTED, D.REJECTED),
        ("archived", [], V.APPROVED, D.SUBMITTED),  # a status KYCAID may add: still waiting, never accepted
    ],
)
def test_document_statuses(raw: str, reasons: list[str], verification: str, expected: str) -> None:
    assert DeclinePolicy("resubmit_quality").document_status(raw, reasons, verification) == expected


def test_document_types_and_overrides() -> None:
    assert document_type("passport") == "PASSPORT"
    assert document_type("other") is None  # not sent
    assert document_type("id_card", {"id_card": "DOMESTIC_PASSPORT"}) == "DOMESTIC_PASSPORT"
    assert document_type("passport", {"passport": None}) is None
    backend = KycaidBackend("types", {**OPTIONS, "DOCUMENT_TYPES": {"other": "FINANCIAL_DOCUMENT"}})
    assert (backend.document_type("other"), backend.document_type("selfie")) == ("FINANCIAL_DOCUMENT", "SELFIE_IMAGE")


# --- KYCAID's reasons in our reviewer catalogue ----------------------------------------------------------


def test_every_kycaid_decline_reason_has_a_catalogue_code() -> None:
    codes = catalogue()
    for reason in DECLINE_REASONS.values():
        assert reason in CATALOGUE_CODES, reason
        assert normalise_reason(reason, CATALOGUE_CODES) in codes
        assert normalise_reason(reason, CATALOGUE_CODES) != "OTHER" or reason == "OTHER", reason


def declined(**extra: Any) -> dict[str, Any]:
    """A ``VERIFICATION_COMPLETED`` body whose document check failed for a forgery and a bad picture."""
    return {
        "type": "VERIFICATION_COMPLETED",
        "verification_id": "v" * 36,
        "status": "completed",
        "verified": False,
        "verifications": {"document": {"verified": False, "decline_reasons": ["FAKE_DOCUMENT"]}},
        "applicant": {"decline_reasons_ids": [7, 99]},
        **extra,
    }


def test_the_state_names_the_reasons_in_both_vocabularies() -> None:
    backend = KycaidBackend("reasons", OPTIONS)
    state = verification_state(declined(), map_status=backend.map_status, policy=backend.decline_policy)
    assert state.status == V.DECLINED
    assert state.reasons == ("FAKE_DOCUMENT", "BAD_QUALITY", "REASON_99")  # KYCAID's, as before
    assert state.data["kycaid"]["reason_codes"] == ["SUSPECTED_FRAUD", "DOCUMENT_UNREADABLE", "OTHER"]


def test_a_site_maps_kycaid_reasons_onto_its_own_codes() -> None:
    backend = KycaidBackend("reasons", OPTIONS)
    site = kyc_settings_with(
        REASON_CODES={"FORGERY": "Forged document"}, PROVIDER_REASON_MAP={"FAKE_DOCUMENT": "FORGERY"}
    )
    with override_settings(DJANGO_KYC=site):
        state = backend.state_from(declined())
    assert state.data["kycaid"]["reason_codes"] == ["FORGERY", "DOCUMENT_UNREADABLE", "OTHER"]
    assert state.reasons == ("FAKE_DOCUMENT", "BAD_QUALITY", "REASON_99")


def test_no_reasons_no_codes() -> None:
    state = KycaidBackend("ok", OPTIONS).state_from({"status": "completed", "verified": True})
    assert (state.status, state.reasons, state.data["kycaid"]["reason_codes"]) == (V.APPROVED, (), [])
