"""emit(): the outbox row written in the transaction of the change, per subscribed endpoint, and nothing else."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from django_kyc.models import Applicant, Delivery, Endpoint, EndpointSource, OutboundEvent
from django_kyc.outbound import generate_secret
from django_kyc.services import events, transitions
from django_kyc.services.audit import Change
from django_kyc.status import Actor, Source, VerificationStatus
from tests.support.factories import make_verification
from tests.support.kyc_settings import kyc_settings_with

pytestmark = pytest.mark.django_db

V = VerificationStatus
REVIEWER = Change(actor_type=Actor.USER, source=Source.ADMIN, label="r", reason="checked")


def review_due_data(applicant: Applicant) -> dict[str, Any]:
    return {"applicant_id": str(applicant.pk), "reason": "periodic", "due_at": "2027-01-01T00:00:00+00:00"}


def endpoint(name: str = "billing", types: list[str] | None = None, **fields: Any) -> Endpoint:
    return Endpoint.objects.create(
        name=name, url="https://billing.example/hooks", event_types=types or ["*"], secret=generate_secret(), **fields
    )


def test_an_approval_writes_its_events_in_the_same_transaction(make_applicant: Callable[..., Applicant]) -> None:
    hook = endpoint()
    applicant = make_applicant()
    verification = make_verification(applicant, V.REVIEW)
    transitions.transition_verification(verification.pk, V.APPROVED, REVIEWER)
    by_type = {event.event_type: event for event in OutboundEvent.objects.all()}
    assert set(by_type) >= {
        "verification.status_changed",
        "verification.completed",
        "applicant.status_changed",
        "applicant.verified",
    }
    changed = by_type["verification.status_changed"]
    assert changed.data == {
        "verification_id": str(verification.pk),
        "applicant_id": str(applicant.pk),
        "backend": "sandbox",
        "from_status": "review",
        "to_status": "approved",
        "actor_type": "user",
    }
    assert (changed.subject_type, changed.subject_id) == ("verification", str(verification.pk))
    assert by_type["applicant.verified"].data["applicant_id"] == str(applicant.pk)
    assert Delivery.objects.filter(endpoint=hook).count() == OutboundEvent.objects.count()


def test_a_change_that_rolls_back_leaves_no_event(make_applicant: Callable[..., Applicant]) -> None:
    endpoint()
    verification = make_verification(make_applicant(), V.REVIEW)
    seen_inside = []

    def approve_then_fail() -> None:
        with transaction.atomic():
            transitions.transition_verification(verification.pk, V.APPROVED, REVIEWER)
            seen_inside.append(OutboundEvent.objects.exists())  # written inside the change's transaction...
            raise RuntimeError("the caller's transaction fails after the move")

    with pytest.raises(RuntimeError):
        approve_then_fail()
    assert seen_inside == [True]
    assert not OutboundEvent.objects.exists()  # ...and gone with it
    assert not Delivery.objects.exists()
    verification.refresh_from_db()
    assert verification.status == V.REVIEW


def test_payloads_hold_no_personal_data(make_applicant: Callable[..., Applicant]) -> None:
    endpoint()
    applicant = make_applicant(last_name="Zebedee-Quux", email="jane.zq@example.org", date_of_birth="1980-02-03")
    verification = make_verification(applicant, V.REVIEW)
    transitions.transition_verification(verification.pk, V.APPROVED, REVIEWER)
    from django_kyc.services.outbound import body_of

    bodies = [body_of(event).decode() for event in OutboundEvent.objects.all()]
    assert bodies
    for body in bodies:
        for personal in ("Jane", "Zebedee", "jane.zq", "1980-02-03", "X1234567", "GB"):
            assert personal not in body


def test_only_subscribed_enabled_endpoints_get_a_delivery(make_applicant: Callable[..., Applicant]) -> None:
    verified_only = endpoint("crm", ["applicant.verified"])
    endpoint("off", enabled=False)
    verification = make_verification(make_applicant(), V.REVIEW)
    transitions.transition_verification(verification.pk, V.APPROVED, REVIEWER)
    assert list(Delivery.objects.values_list("endpoint__name", "event__event_type")) == [("crm", "applicant.verified")]
    assert verified_only.receives("applicant.verified")
    assert not verified_only.receives("verification.completed")


def test_without_endpoints_nothing_is_written(make_applicant: Callable[..., Applicant]) -> None:
    verification = make_verification(make_applicant(), V.REVIEW)
    transitions.transition_verification(verification.pk, V.APPROVED, REVIEWER)
    assert not OutboundEvent.objects.exists()


def test_an_approval_reads_the_endpoints_once_for_all_its_events(
    make_applicant: Callable[..., Applicant],
) -> None:
    """Four events (status changed, completed, the applicant's change and its verification), one reading of the
    endpoint table: the reading is shared inside the transition."""
    endpoint()
    verification = make_verification(make_applicant(), V.REVIEW)
    with CaptureQueriesContext(connection) as queries:
        transitions.transition_verification(verification.pk, V.APPROVED, REVIEWER)
    readings = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('SELECT "django_kyc_endpoint"')]
    assert OutboundEvent.objects.count() >= 4
    assert len(readings) == 1


def test_outside_a_shared_reading_each_event_reads_the_endpoints(make_applicant: Callable[..., Applicant]) -> None:
    hook = endpoint()
    applicant = make_applicant()
    with events.endpoints_read_once():
        events.emit("applicant.review_due", applicant, review_due_data(applicant))
        Endpoint.objects.filter(pk=hook.pk).update(enabled=False)
        events.emit("applicant.review_due", applicant, review_due_data(applicant))
    assert Delivery.objects.count() == 2  # the second event used the block's reading
    events.emit("applicant.review_due", applicant, review_due_data(applicant))
    assert Delivery.objects.count() == 2  # a fresh reading sees the endpoint disabled


def test_data_must_be_what_the_catalogue_declares(make_applicant: Callable[..., Applicant]) -> None:
    endpoint()
    applicant = make_applicant()
    ok = {"applicant_id": str(applicant.pk), "reason": "periodic", "due_at": "2030-01-01T00:00:00+00:00"}
    assert events.emit("applicant.review_due", applicant, ok) is not None
    with pytest.raises(ValueError, match="undeclared data keys \\['email'\\]"):
        events.emit("applicant.review_due", applicant, {**ok, "email": applicant.email})
    with pytest.raises(ValueError, match="missing data keys \\['due_at'\\]"):
        events.emit("applicant.review_due", applicant, {"applicant_id": str(applicant.pk), "reason": "periodic"})
    with pytest.raises(ValueError, match="not a uuid"):
        events.emit("applicant.review_due", applicant, {**ok, "applicant_id": "Jane"})
    with pytest.raises(ValueError, match="offset"):
        events.emit("applicant.review_due", applicant, {**ok, "due_at": "2030-01-01T00:00:00"})
    with pytest.raises(ValueError, match="unknown event type"):
        events.emit("applicant.nonsense", applicant, {})


def test_every_status_change_door_emits(make_applicant: Callable[..., Applicant]) -> None:
    """Documents, AML checks and hits, risk and erasure each report through the same call."""
    from django_kyc.models import AmlCheck, AmlHit, Document
    from django_kyc.services import risk
    from django_kyc.status import AmlHitStatus, AmlStatus, DocumentStatus

    endpoint()
    applicant = make_applicant()
    document = Document.objects.get(applicant=applicant)
    with transaction.atomic():
        transitions.transition_document(document, DocumentStatus.SUBMITTED, Change.system())
    check = AmlCheck.objects.create(applicant=applicant, backend="sandbox")
    transitions.transition_aml_check(check.pk, AmlStatus.RUNNING, Change.system())
    hit = AmlHit.objects.create(aml_check=check, entity_id="provider-entity-Q7", topics=["sanction"])
    transitions.transition_aml_hit(hit.pk, AmlHitStatus.FALSE_POSITIVE, REVIEWER)
    risk.set_risk_level(applicant.pk, "high", Change.system(reason="rule"))
    types = set(OutboundEvent.objects.values_list("event_type", flat=True))
    assert {
        "document.status_changed",
        "aml.check_status_changed",
        "aml.hit_resolved",
        "applicant.risk_changed",
    } <= types
    resolved = OutboundEvent.objects.get(event_type="aml.hit_resolved")
    assert resolved.data["to_status"] == "false_positive"
    assert "provider-entity-Q7" not in json.dumps(resolved.data)


SETTINGS_SECRET = generate_secret()


def test_endpoints_in_settings_are_mirrored_and_their_secret_never_stored(
    make_applicant: Callable[..., Applicant],
) -> None:
    declared = {
        "ledger": {"URL": "https://ledger.example/in", "EVENTS": ["applicant.verified"], "SECRET": SETTINGS_SECRET}
    }
    with override_settings(DJANGO_KYC=kyc_settings_with(OUTBOUND_ENDPOINTS=declared)):
        verification = make_verification(make_applicant(), V.REVIEW)
        transitions.transition_verification(verification.pk, V.APPROVED, REVIEWER)
        row = Endpoint.objects.get(name="ledger")
        assert (row.source, row.url, row.event_types, row.secret) == (
            EndpointSource.SETTINGS,
            "https://ledger.example/in",
            ["applicant.verified"],
            "",
        )
        assert Delivery.objects.get(endpoint=row).event.event_type == "applicant.verified"
        from django_kyc.services.outbound import signing_secrets

        assert signing_secrets(row) == [SETTINGS_SECRET]
    # taken out of the settings: disabled, its history kept
    events.current_endpoints()
    row.refresh_from_db()
    assert (row.enabled, row.disabled_reason) == (False, "removed from settings")
