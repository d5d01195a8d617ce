"""The event catalogue: every event type django-kyc sends to the site's services, and the shape of its data.

This list is the source of truth. The JSON Schema documents shipped in ``django_kyc/outbound/schemas/`` (one per
type and version), the page ``docs/events.md`` and the API's ``events/`` answer are all rendered from it
(``python -m django_kyc.docs events --update docs/events.md``; ``tests/outbound/test_catalogue.py`` fails when the
files drift). :func:`check_data` holds every emitted event to its declaration: no undeclared key can reach a
receiver, which is what keeps personal data out of the payloads (they carry ids and statuses; a receiver reads
what it may see through the API).

A change to a type's data that could break a receiver (a key removed or retyped) is a new ``version``; adding an
optional key is not. Nothing here needs Django settings.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django_kyc.status import (
    Actor,
    AmlHitStatus,
    AmlStatus,
    ApplicantStatus,
    DocumentStatus,
    RiskLevel,
    VerificationStatus,
)

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID = "https://django-kyc.dev/schemas/events/{name}.v{version}.json"


@dataclass(frozen=True)
class Field:
    """One key of an event's ``data``: a JSON Schema fragment and what the key means."""

    schema: Mapping[str, Any]
    description: str
    required: bool = True


def _uuid(description: str, *, nullable: bool = False) -> Field:
    kind: Any = ["string", "null"] if nullable else "string"
    return Field({"type": kind, "format": "uuid"}, description)


def _enum(values: Sequence[str], description: str) -> Field:
    return Field({"type": "string", "enum": list(values)}, description)


def _time(description: str, *, nullable: bool = False) -> Field:
    kind: Any = ["string", "null"] if nullable else "string"
    return Field({"type": kind, "format": "date-time"}, description)


def _text(description: str) -> Field:
    return Field({"type": "string", "maxLength": 64}, description)


@dataclass(frozen=True)
class EventType:
    name: str
    version: int
    #: the model the event is about: what ``subject_type`` the outbox row records
    subject: str
    description: str
    data: Mapping[str, Field] = field(default_factory=dict)

    @property
    def schema_id(self) -> str:
        return SCHEMA_ID.format(name=self.name, version=self.version)

    @property
    def file_name(self) -> str:
        return f"{self.name}.v{self.version}.json"

    def json_schema(self) -> dict[str, Any]:
        """The whole delivery body as a JSON Schema document: the envelope and this type's ``data``."""
        return {
            "$schema": SCHEMA_DIALECT,
            "$id": self.schema_id,
            "title": self.name,
            "description": self.description,
            "type": "object",
            "required": ["type", "version", "timestamp", "data"],
            "additionalProperties": False,
            "properties": {
                "type": {"const": self.name, "description": "The event type."},
                "version": {"const": self.version, "description": "The version of this type's data schema."},
                "timestamp": {
                    "type": "string",
                    "format": "date-time",
                    "description": "When the change happened (UTC, ISO 8601).",
                },
                "data": {
                    "type": "object",
                    "required": [name for name, spec in self.data.items() if spec.required],
                    "additionalProperties": False,
                    "properties": {
                        name: {**spec.schema, "description": spec.description} for name, spec in self.data.items()
                    },
                },
            },
        }


_APPLICANT = _uuid("The applicant's id (`/api/applicants/{id}/` for staff with access).")
_VERIFICATION = _uuid("The verification's id.")
_BACKEND = _text("The backend alias the verification or check ran on.")
_REASON = Field(
    {"type": "string", "maxLength": 32},
    "Why: `periodic`, `document_expiry`, `risk_change` or `screening_hit`.",
)

CATALOGUE: tuple[EventType, ...] = (
    EventType(
        "applicant.verified",
        1,
        "applicant",
        "The applicant's aggregate status became `verified`: the site may unlock what it gates on KYC.",
        {"applicant_id": _APPLICANT, "verified_at": _time("When the applicant became verified.")},
    ),
    EventType(
        "applicant.status_changed",
        1,
        "applicant",
        "The applicant's aggregate status changed (every change, `applicant.verified` included).",
        {
            "applicant_id": _APPLICANT,
            "from_status": _enum(ApplicantStatus.values, "The status before."),
            "to_status": _enum(ApplicantStatus.values, "The status now."),
        },
    ),
    EventType(
        "applicant.risk_changed",
        1,
        "applicant",
        "A reviewer (or a rule) set the applicant's risk level.",
        {
            "applicant_id": _APPLICANT,
            "from_level": Field({"type": "string", "enum": ["", *RiskLevel.values]}, "The level before (`''`: none)."),
            "to_level": _enum(RiskLevel.values, "The level now."),
        },
    ),
    EventType(
        "applicant.review_due",
        1,
        "applicant",
        "The applicant's periodic review (or a re-verification for another reason) falls due.",
        {"applicant_id": _APPLICANT, "reason": _REASON, "due_at": _time("When the review is due.")},
    ),
    EventType(
        "applicant.reverification_required",
        1,
        "applicant",
        "The applicant must verify again before the site relies on the earlier verification (its document "
        "lapsed, or a review found it necessary).",
        {
            "applicant_id": _APPLICANT,
            "reason": _REASON,
            "verification_id": _uuid("The verification that is no longer enough, if one.", nullable=True),
        },
    ),
    EventType(
        "applicant.erased",
        1,
        "applicant",
        "The applicant's personal data was erased (retention lapsed, or an erasure request was carried out). The "
        "id stays valid; there is nothing left to fetch but statuses.",
        {"applicant_id": _APPLICANT, "erased_at": _time("When the data was erased.")},
    ),
    EventType(
        "verification.status_changed",
        1,
        "verification",
        "A verification moved from one status to another.",
        {
            "verification_id": _VERIFICATION,
            "applicant_id": _APPLICANT,
            "backend": _BACKEND,
            "from_status": _enum(VerificationStatus.values, "The status before."),
            "to_status": _enum(VerificationStatus.values, "The status now."),
            "actor_type": _enum(Actor.values, "Who caused the change."),
        },
    ),
    EventType(
        "verification.completed",
        1,
        "verification",
        "A verification reached a final status: approved, declined, expired or cancelled.",
        {
            "verification_id": _VERIFICATION,
            "applicant_id": _APPLICANT,
            "backend": _BACKEND,
            "status": _enum(VerificationStatus.values, "The final status."),
            "reasons": Field(
                {"type": "array", "items": {"type": "string", "maxLength": 64}},
                "Reason codes of the decision (the catalogue in `docs/review.md`), never free text.",
            ),
            "decided_at": _time("When it was decided; `null` for expired or cancelled.", nullable=True),
        },
    ),
    EventType(
        "document.status_changed",
        1,
        "document",
        "A document moved from one status to another.",
        {
            "document_id": _uuid("The document's id."),
            "applicant_id": _APPLICANT,
            "from_status": _enum(DocumentStatus.values, "The status before."),
            "to_status": _enum(DocumentStatus.values, "The status now."),
        },
    ),
    EventType(
        "aml.check_status_changed",
        1,
        "aml_check",
        "An AML screening moved from one status to another (`clear`, `potential_match`, ...).",
        {
            "aml_check_id": _uuid("The AML check's id."),
            "applicant_id": _APPLICANT,
            "backend": _BACKEND,
            "from_status": _enum(AmlStatus.values, "The status before."),
            "to_status": _enum(AmlStatus.values, "The status now."),
        },
    ),
    EventType(
        "aml.hit_created",
        1,
        "aml_hit",
        "A screening found a possible match, which waits for a reviewer.",
        {
            "hit_id": _uuid("The hit's id."),
            "aml_check_id": _uuid("The AML check's id."),
            "applicant_id": _APPLICANT,
            "topics": Field(
                {"type": "array", "items": {"type": "string", "maxLength": 64}},
                'What the listed entity is listed for ("sanction", "role.pep", ...).',
            ),
        },
    ),
    EventType(
        "aml.hit_resolved",
        1,
        "aml_hit",
        "A reviewer resolved a possible match as a true or a false positive.",
        {
            "hit_id": _uuid("The hit's id."),
            "aml_check_id": _uuid("The AML check's id."),
            "applicant_id": _APPLICANT,
            "from_status": _enum(AmlHitStatus.values, "The status before."),
            "to_status": _enum(AmlHitStatus.values, "The status now."),
        },
    ),
)

EVENT_TYPES: dict[str, EventType] = {event.name: event for event in CATALOGUE}


def event_type(name: str) -> EventType:
    try:
        return EVENT_TYPES[name]
    except KeyError:
        raise ValueError(f"unknown event type {name!r}: add it to django_kyc.outbound.catalogue") from None


# --- checking data against the declaration ------------------------------------------------------------------------

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "null": (type(None),),
    "array": (list, tuple),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
}


def _problem(value: Any, schema: Mapping[str, Any], where: str) -> str | None:
    kinds = schema.get("type")
    if kinds is not None:
        allowed = [kinds] if isinstance(kinds, str) else list(kinds)
        if not any(isinstance(value, _JSON_TYPES[kind]) for kind in allowed) or (
            isinstance(value, bool) and "boolean" not in allowed
        ):
            return f"{where}: expected {' or '.join(allowed)}, got {type(value).__name__}"
    if value is None:
        return None
    if "enum" in schema and value not in schema["enum"]:
        return f"{where}: {value!r} is not one of {schema['enum']}"
    if isinstance(value, str):
        if len(value) > schema.get("maxLength", len(value)):
            return f"{where}: longer than {schema['maxLength']}"
        return _format_problem(value, schema.get("format"), where)
    if isinstance(value, list | tuple) and "items" in schema:
        for index, item in enumerate(value):
            problem = _problem(item, schema["items"], f"{where}[{index}]")
            if problem:
                return problem
    return None


def _format_problem(value: str, fmt: str | None, where: str) -> str | None:
    try:
        if fmt == "uuid":
            uuid.UUID(value)
        elif fmt == "date-time" and datetime.datetime.fromisoformat(value).tzinfo is None:
            return f"{where}: a date-time needs its offset"
    except ValueError:
        return f"{where}: {value!r} is not a {fmt}"
    return None


def check_data(event: EventType, data: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` unless ``data`` is exactly what ``event`` declares: every required key, no other
    key, each value of its declared type. Called on every emit, so a payload cannot grow personal data by
    accident: a new key is a change to this catalogue, reviewed as one."""
    extra = sorted(set(data) - set(event.data))
    if extra:
        raise ValueError(f"{event.name}: undeclared data keys {extra}")
    missing = sorted(name for name, spec in event.data.items() if spec.required and name not in data)
    if missing:
        raise ValueError(f"{event.name}: missing data keys {missing}")
    for name, value in data.items():
        problem = _problem(value, event.data[name].schema, f"{event.name}.data.{name}")
        if problem:
            raise ValueError(problem)
