"""The catalogue, its JSON Schema files and docs/events.md say the same thing, and real payloads fit it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest

from django_kyc.docs import SCHEMA_DIRECTORY, documented_events, events_section, schema_file_text
from django_kyc.models import Applicant, Endpoint, OutboundEvent
from django_kyc.outbound import generate_secret
from django_kyc.outbound.catalogue import CATALOGUE, EVENT_TYPES
from django_kyc.services import transitions
from django_kyc.services.audit import Change
from django_kyc.services.outbound import body_of
from django_kyc.status import Actor, Source, VerificationStatus
from tests.support.factories import make_verification

ROOT = Path(__file__).resolve().parents[2]
UPDATE = "python -m django_kyc.docs events --update docs/events.md"


def test_the_issue_s_event_types_are_all_there() -> None:
    assert {
        "applicant.verified",
        "applicant.review_due",
        "applicant.reverification_required",
        "verification.status_changed",
        "verification.completed",
        "aml.hit_created",
        "aml.hit_resolved",
        "applicant.erased",
    } <= set(EVENT_TYPES)
    assert len(EVENT_TYPES) == len(CATALOGUE)


def test_docs_events_md_is_the_catalogue() -> None:
    body = documented_events((ROOT / "docs" / "events.md").read_text(encoding="utf-8"))
    assert body is not None, "docs/events.md lost its events markers"
    assert body == events_section(), UPDATE


def test_the_shipped_schema_files_are_the_catalogue() -> None:
    shipped = {path.name: path.read_text(encoding="utf-8") for path in SCHEMA_DIRECTORY.glob("*.json")}
    assert shipped == {event.file_name: schema_file_text(event) for event in CATALOGUE}, UPDATE


@pytest.mark.parametrize("event", CATALOGUE, ids=[event.name for event in CATALOGUE])
def test_each_schema_is_a_valid_json_schema_that_forbids_extra_keys(event) -> None:
    schema = event.json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["additionalProperties"] is False
    assert schema["properties"]["data"]["additionalProperties"] is False


@pytest.mark.django_db
def test_emitted_payloads_validate_against_their_schemas(make_applicant: Callable[..., Applicant]) -> None:
    Endpoint.objects.create(name="all", url="https://x.example/", event_types=["*"], secret=generate_secret())
    verification = make_verification(make_applicant(), VerificationStatus.REVIEW)
    change = Change(actor_type=Actor.USER, source=Source.ADMIN, label="r", reason="ok")
    transitions.transition_verification(verification.pk, VerificationStatus.APPROVED, change)
    emitted = list(OutboundEvent.objects.all())
    assert len({event.event_type for event in emitted}) >= 4
    checker = jsonschema.FormatChecker()
    for event in emitted:
        schema = EVENT_TYPES[event.event_type].json_schema()
        jsonschema.Draft202012Validator(schema, format_checker=checker).validate(json.loads(body_of(event)))
