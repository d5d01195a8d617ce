"""Stripe Identity's status tables, the form encoding and the pure readers of sessions and events: no HTTP, no
database."""

from __future__ import annotations

import datetime
import json

import pytest

from django_kyc.backends.base import InboundWebhook
from django_kyc.backends.stripe_identity import StripeIdentityBackend, form_pairs
from django_kyc.backends.stripe_identity.state import (
    client_token,
    document_result,
    report_checks,
    session_state,
    stripe_date,
    unix_time,
)
from django_kyc.backends.stripe_identity.statuses import (
    CATALOGUE_CODES,
    ERROR_CODE_STATUSES,
    EVENT_TYPES,
    STATUS_MAP,
    catalogue_codes,
    provider_status,
)
from django_kyc.backends.stripe_identity.webhooks import parse
from django_kyc.reasons import BUILTIN_REASON_CODES
from django_kyc.status import VerificationStatus
from django_kyc.testing.stripe_identity import ERROR_REASONS, UNKNOWN_STATUS

V = VerificationStatus
OURS = "0b1f5a3c-8d2e-4f6a-9b7c-1d2e3f4a5b6c"
#: Every ``last_error.code`` Stripe documents for a VerificationSession.
DOCUMENTED_CODES = {
    "abandoned",
    "consent_declined",
    "country_not_supported",
    "device_not_supported",
    "document_expired",
    "document_type_not_supported",
    "document_unverified_other",
    "email_unverified_other",
    "email_verification_declined",
    "id_number_insufficient_document_data",
    "id_number_mismatch",
    "id_number_unverified_other",
    "phone_unverified_other",
    "phone_verification_declined",
    "selfie_document_missing_photo",
    "selfie_face_mismatch",
    "selfie_manipulated",
    "selfie_unverified_other",
    "under_supported_age",
}


@pytest.fixture
def backend() -> StripeIdentityBackend:
    return StripeIdentityBackend("s", {"SECRET_KEY": "sk_test_x"})


@pytest.mark.parametrize(
    ("raw", "code", "expected"),
    [
        ("requires_input", "", V.AWAITING_USER),
        ("processing", "", V.PROCESSING),
        ("verified", "", V.APPROVED),
        ("canceled", "", V.CANCELLED),
        ("requires_input", "abandoned", V.EXPIRED),
        ("requires_input", "consent_declined", V.DECLINED),
        ("requires_input", "under_supported_age", V.DECLINED),
        ("requires_input", "country_not_supported", V.DECLINED),
        ("requires_input", "document_expired", V.RESUBMISSION_REQUESTED),
        ("requires_input", "selfie_manipulated", V.RESUBMISSION_REQUESTED),
        ("requires_input", "a_code_stripe_adds_later", V.REVIEW),  # never guessed into "try again"
        (UNKNOWN_STATUS, "", V.REVIEW),
        ("", "", V.REVIEW),
        ("Verified", "", V.REVIEW),  # Stripe's enums are lower case: another spelling is not Stripe's value
    ],
)
def test_statuses(backend: StripeIdentityBackend, raw: str, code: str, expected: str) -> None:
    assert backend.map_status(raw, code) == expected


def test_every_documented_error_code_has_a_status_and_a_catalogue_code() -> None:
    assert set(ERROR_CODE_STATUSES) == DOCUMENTED_CODES
    assert set(CATALOGUE_CODES) == DOCUMENTED_CODES
    assert set(CATALOGUE_CODES.values()) <= set(BUILTIN_REASON_CODES)
    assert set(ERROR_REASONS) <= DOCUMENTED_CODES  # the fake sets only codes Stripe documents
    assert STATUS_MAP[("requires_input", "")] == V.AWAITING_USER


def test_declines_are_the_codes_no_retry_can_fix() -> None:
    declined = {code for code, status in ERROR_CODE_STATUSES.items() if status == V.DECLINED}
    assert declined == {"consent_declined", "under_supported_age", "country_not_supported"}


def test_catalogue_codes() -> None:
    assert catalogue_codes(["selfie_face_mismatch", "document_expired", "selfie_unverified_other", "new"]) == [
        "SELFIE_MISMATCH",
        "DOCUMENT_EXPIRED",
        "OTHER",
    ]


def test_provider_status_keeps_the_code() -> None:
    assert provider_status("requires_input", "abandoned") == "requires_input:abandoned"
    assert provider_status("verified", "") == "verified"
    assert provider_status("", "") == "(empty)"


def test_form_pairs_use_stripes_bracket_notation() -> None:
    params = {
        "type": "document",
        "options": {"document": {"allowed_types": ["passport", "id_card"], "require_matching_selfie": True}},
        "metadata": {"a": "1"},
        "return_url": None,
        "empty": {},
    }
    assert form_pairs(params) == [
        ("type", "document"),
        ("options[document][allowed_types][0]", "passport"),
        ("options[document][allowed_types][1]", "id_card"),
        ("options[document][require_matching_selfie]", "true"),
        ("metadata[a]", "1"),
        ("empty", ""),
    ]


def test_session_state_keeps_no_secret_and_no_personal_data(backend: StripeIdentityBackend) -> None:
    session = {
        "id": "vs_1",
        "status": "requires_input",
        "client_secret": "vs_1_secret_x",
        "url": "https://verify.stripe.com/start/x",
        "last_error": {"code": "document_expired", "reason": "The document has expired."},
        "last_verification_report": {"id": "vr_1", "document": {"first_name": "Jenny"}},
        "verified_outputs": {"first_name": "Jenny"},
        "livemode": False,
    }
    state = session_state(session, backend.map_status)
    assert (state.status, state.provider_status, tuple(state.reasons)) == (
        V.RESUBMISSION_REQUESTED,
        "requires_input:document_expired",
        ("document_expired",),
    )
    kept = json.dumps(state.data)
    assert "secret" not in kept
    assert "Jenny" not in kept
    assert "verify.stripe.com" not in kept
    assert state.data["stripe_identity"]["last_verification_report"] == "vr_1"


def test_client_token_only_while_input_is_required() -> None:
    at = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    session = {"status": "requires_input", "client_secret": "s", "url": "u"}
    token = client_token(session, at, 3600)
    assert (token.token, token.link, token.expires_at) == ("s", "u", at + datetime.timedelta(hours=1))
    assert client_token({**session, "status": "processing"}, at, 3600).token == ""


def test_unix_time() -> None:
    assert unix_time(1700000000) == datetime.datetime(2023, 11, 14, 22, 13, 20, tzinfo=datetime.UTC)
    assert unix_time("1700000000") is None
    assert unix_time(True) is None
    assert unix_time(10**20) is None


def event(kind: str = "identity.verification_session.verified", **session: object) -> InboundWebhook:
    body = {
        "id": "evt_1",
        "object": "event",
        "type": kind,
        "created": 1700000000,
        "data": {"object": {"id": "vs_1", "object": "identity.verification_session", "status": "verified", **session}},
    }
    return InboundWebhook(body=json.dumps(body).encode(), headers={})


def test_events_in_fetch_and_payload_mode(backend: StripeIdentityBackend) -> None:
    (fetch,) = parse(event(client_reference_id=OURS), backend.map_status, with_state=False)
    assert (fetch.event_id, fetch.provider_ref, fetch.our_ref, fetch.state) == ("evt_1", "vs_1", OURS, None)
    assert fetch.occurred_at == unix_time(1700000000)
    (payload,) = parse(event(metadata={"django_kyc_verification": OURS}), backend.map_status, with_state=True)
    assert payload.state is not None
    assert (payload.state.status, payload.state.occurred_at) == (V.APPROVED, unix_time(1700000000))


def test_every_session_event_type_is_parsed_and_others_are_ignored(backend: StripeIdentityBackend) -> None:
    for kind in EVENT_TYPES:
        assert len(parse(event(kind, client_reference_id=OURS), backend.map_status, with_state=False)) == 1
    assert parse(event("customer.created", client_reference_id=OURS), backend.map_status, with_state=False) == []
    assert parse(event(id="", client_reference_id=OURS), backend.map_status, with_state=False) == []
    # a session another integration of the same Stripe account made
    assert parse(event(client_reference_id="cus_123"), backend.map_status, with_state=False) == []


def test_report_reading() -> None:
    report = {
        "id": "vr_1",
        "document": {
            "status": "unverified",
            "error": {"code": "document_expired", "reason": "Expired."},
            "type": "driving_license",
            "issuing_country": "gb",
            "first_name": "Jenny",
            "number": "X123",
            "expiration_date": {"day": 1, "month": 2, "year": 2020},
            "issued_date": {"day": 31, "month": 2, "year": 2010},  # no such day: dropped, not guessed
        },
        "selfie": {"status": "verified", "error": None},
    }
    result = document_result(report)
    assert result is not None
    assert (result.status, result.provider_document_id, tuple(result.reasons)) == (
        "rejected",
        "stripe-vr_1",
        ("document_expired",),
    )
    assert result.fields == {
        "type": "driving_licence",
        "issuing_country": "GB",
        "issue_date": None,
        "expiry_date": datetime.date(2020, 2, 1),
    }
    assert report_checks(report) == {
        "document": {"status": "unverified", "error": "document_expired"},
        "selfie": {"status": "verified", "error": ""},
    }
    assert document_result({"id": "vr_2", "document": {"status": "unverified"}}) is None  # nothing was read
    assert stripe_date({"day": 1, "month": 1}) is None
    assert stripe_date("2020-01-01") is None
