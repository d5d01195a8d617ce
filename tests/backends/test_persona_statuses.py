"""Persona's status tables and the pure readers of inquiries, tokens and events: no HTTP, no database."""

from __future__ import annotations

import base64
import datetime
import json
from typing import Any

import pytest

from django_kyc.backends.base import InboundWebhook
from django_kyc.backends.persona import PersonaBackend
from django_kyc.backends.persona.options import template_attribute
from django_kyc.backends.persona.state import client_token, included_verifications, inquiry_state, token_expiry
from django_kyc.backends.persona.statuses import EVENT_NAMES, RESUMABLE, STATUS_MAP, provider_status
from django_kyc.backends.persona.webhooks import parse
from django_kyc.status import VerificationStatus
from django_kyc.testing.persona import UNKNOWN_STATUS
from django_kyc.testing.persona.server import EVENTS

V = VerificationStatus
#: Every inquiry status Persona documents (its model lifecycle page).
DOCUMENTED_STATUSES = {"created", "pending", "completed", "failed", "expired", "needs_review", "approved", "declined"}
OUR_REFERENCE = "kyc_0123456789abcdef0123"
NOW = datetime.datetime(2026, 12, 3, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture
def backend() -> PersonaBackend:
    return PersonaBackend("p", {"API_KEY": "persona_sandbox_x", "TEMPLATE_ID": "itmpl_x"})


def document(status: str, **attributes: Any) -> dict[str, Any]:
    return {
        "data": {
            "type": "inquiry",
            "id": "inq_1",
            "attributes": {"status": status, "reference-id": OUR_REFERENCE, "redacted-at": None, **attributes},
            "relationships": {"inquiry-template": {"data": {"type": "inquiry-template", "id": "itmpl_x"}}},
        },
        "included": [],
    }


def event(name: str, inquiry: dict[str, Any] | None = None, **extra: Any) -> bytes:
    payload = {"data": inquiry if inquiry is not None else document("approved")["data"]}
    body = {
        "data": {
            "type": "event",
            "id": "evt_1",
            "attributes": {"name": name, "payload": payload, "created-at": "2026-12-03T12:00:00.000Z", **extra},
        }
    }
    return json.dumps(body).encode()


def jwt(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS256'})}.{part(claims)}.signature"


# --- the tables ---------------------------------------------------------------------------------------------


def test_every_documented_status_is_mapped_and_nothing_else() -> None:
    assert set(STATUS_MAP) == DOCUMENTED_STATUSES
    assert set(STATUS_MAP.values()) <= {status.value for status in V}
    assert UNKNOWN_STATUS not in STATUS_MAP


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("created", V.AWAITING_USER),
        ("pending", V.AWAITING_USER),
        ("completed", V.PROCESSING),
        ("failed", V.DECLINED),
        ("expired", V.EXPIRED),
        ("needs_review", V.REVIEW),
        ("approved", V.APPROVED),
        ("declined", V.DECLINED),
        (UNKNOWN_STATUS, V.REVIEW),
        ("", V.REVIEW),
    ],
)
def test_status_for(backend: PersonaBackend, raw: str, expected: str) -> None:
    assert backend.status_for(raw) == expected


def test_overrides_win(backend: PersonaBackend) -> None:
    overridden = PersonaBackend(
        "p",
        {
            "API_KEY": "persona_sandbox_x",
            "TEMPLATE_ID": "itmpl_x",
            "STATUS_OVERRIDES": {"completed": "approved", "expired": "resubmission_requested"},
        },
    )
    assert (overridden.status_for("completed"), overridden.status_for("expired")) == (
        V.APPROVED,
        V.RESUBMISSION_REQUESTED,
    )
    assert overridden.status_for("failed") == backend.status_for("failed") == V.DECLINED


def test_resumable_statuses() -> None:
    assert {"created", "pending", "expired"} == RESUMABLE


def test_the_fake_sends_a_documented_event_for_each_status() -> None:
    assert set(EVENTS) == DOCUMENTED_STATUSES
    assert set(EVENTS.values()) <= EVENT_NAMES


def test_provider_status_marks_redaction() -> None:
    assert provider_status("approved") == "approved"
    assert provider_status("approved", redacted=True) == "approved:redacted"
    assert provider_status("") == "(empty)"


@pytest.mark.parametrize(
    ("template", "attribute"),
    [
        ("itmpl_abc", "inquiry-template-id"),
        ("itmplv_abc", "inquiry-template-version-id"),
        ("tmpl_abc", "template-id"),
    ],
)
def test_the_template_attribute_follows_the_prefix(template: str, attribute: str) -> None:
    assert template_attribute(template) == attribute


def test_an_unknown_template_prefix_is_refused() -> None:
    with pytest.raises(ValueError, match="not an inquiry template id"):
        template_attribute("ver_abc")


# --- inquiries as states ------------------------------------------------------------------------------------


def test_inquiry_state_keeps_no_personal_data(backend: PersonaBackend) -> None:
    inquiry = document("declined", **{"name-first": "Alexander", "birthdate": "1990-01-01", "decisioned-at": "x"})
    inquiry["included"] = [
        {
            "type": "verification/government-id",
            "id": "ver_1",
            "attributes": {
                "status": "failed",
                "name-first": "Alexander",
                "checks": [
                    {"name": "id_expired", "status": "failed"},
                    {"name": "id_barcode_detection", "status": "passed"},
                    {"name": "", "status": "failed"},
                    "junk",
                ],
            },
        },
        {"type": "account", "id": "act_1", "attributes": {"name-first": "Alexander"}},
    ]
    state = inquiry_state(inquiry, backend.status_for)
    assert (state.status, state.provider_status, tuple(state.reasons)) == (V.DECLINED, "declined", ("id_expired",))
    kept = state.data["persona"]
    assert kept["inquiry_id"] == "inq_1"
    assert kept["template"] == "itmpl_x"
    assert kept["decisioned_at"] == "x"
    assert kept["verifications"] == [
        {"id": "ver_1", "type": "verification/government-id", "status": "failed", "failed_checks": ["id_expired"]}
    ]
    assert "Alexander" not in json.dumps(state.data)
    assert "1990" not in json.dumps(state.data)


def test_an_empty_or_odd_document_still_reads(backend: PersonaBackend) -> None:
    state = inquiry_state({"data": None, "included": "nope"}, backend.status_for)
    assert (state.status, state.provider_status) == (V.REVIEW, "(empty)")
    assert included_verifications({"included": [None, {"type": 3}]}) == []


def test_a_redacted_inquiry_keeps_its_status(backend: PersonaBackend) -> None:
    state = inquiry_state(document("approved", **{"redacted-at": "2026-12-03T12:00:00Z"}), backend.status_for)
    assert (state.status, state.provider_status, state.data["persona"]["redacted"]) == (
        V.APPROVED,
        "approved:redacted",
        True,
    )


# --- client tokens ------------------------------------------------------------------------------------------


def test_token_expiry_reads_the_jwt_exp() -> None:
    assert token_expiry(jwt({"exp": 1_800_000_000})) == datetime.datetime.fromtimestamp(1_800_000_000, tz=datetime.UTC)
    for odd in ("", "not-a-jwt", jwt({}), jwt({"exp": "soon"}), jwt({"exp": True}), "a.!!!.c", jwt({"exp": 1e300})):
        assert token_expiry(odd) is None, odd


def test_client_token_expires_with_the_first_of_its_parts() -> None:
    soon = int((NOW + datetime.timedelta(minutes=30)).timestamp())
    token = client_token(jwt({"exp": soon}), "https://x/verify?code=1", NOW, session_ttl=86400, link_ttl=3600)
    assert token.expires_at == NOW + datetime.timedelta(minutes=30)
    later = client_token("opaque", "https://x/verify?code=1", NOW, session_ttl=86400, link_ttl=3600)
    assert later.expires_at == NOW + datetime.timedelta(hours=1)
    only_token = client_token("opaque", "", NOW, session_ttl=86400, link_ttl=3600)
    assert (only_token.link, only_token.expires_at) == ("", NOW + datetime.timedelta(days=1))
    assert client_token("", "", NOW, session_ttl=1, link_ttl=1).expires_at is None


# --- events -------------------------------------------------------------------------------------------------


def test_an_inquiry_event_names_the_inquiry_and_its_time() -> None:
    (parsed,) = parse(InboundWebhook(body=event("inquiry.approved"), headers={}))
    assert (parsed.event_id, parsed.event_type, parsed.provider_ref, parsed.our_ref) == (
        "evt_1",
        "inquiry.approved",
        "inq_1",
        "",
    )
    assert parsed.state is None  # fetched before it is applied
    assert parsed.occurred_at == datetime.datetime(2026, 12, 3, 12, 0, tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    "body",
    [
        event("verification.passed"),
        event("report/watchlist.ready"),
        event("inquiry-session.expired"),
        event("inquiry.approved", {"type": "account", "id": "act_1"}),
        event("inquiry.approved", {"type": "inquiry", "id": ""}),
        event("inquiry.approved", document("approved", **{"reference-id": "user-42"})["data"]),
        event("inquiry.approved", document("approved", **{"reference-id": None})["data"]),
        b'{"data":{"type":"thing","id":"evt_1","attributes":{"name":"inquiry.approved"}}}',
    ],
)
def test_other_events_and_foreign_inquiries_yield_nothing(body: bytes) -> None:
    assert parse(InboundWebhook(body=body, headers={})) == []
