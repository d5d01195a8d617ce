"""The webhook endpoint, end to end: signed POSTs through Django's test client into the inbox and processing.

Signatures are computed here with the sandbox's documented recipe (``tests.support.sandbox.sandbox_signature``),
never by the code under test.
"""

from __future__ import annotations

import io
import json
import time
import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_kyc import signals
from django_kyc.backends.base import InboundWebhook, KycBackend, ProviderEvent
from django_kyc.backends.sandbox import SandboxBackend
from django_kyc.models import (
    Applicant,
    AuditEvent,
    Document,
    Verification,
    WebhookEvent,
    WebhookRejection,
    WebhookState,
)
from django_kyc.services import review, sweeper
from django_kyc.status import DocumentStatus, VerificationStatus
from tests.support.factories import make_verification
from tests.support.kyc_settings import kyc_settings_with, suite_backends
from tests.support.sandbox import SANDBOX_OLD_SECRET, sandbox_event, sandbox_signature
from tests.support.webhooks import rejection_counts

V = VerificationStatus
URL = "/kyc/webhooks/sandbox/"
pytestmark = pytest.mark.django_db


class NoWebhooksBackend(KycBackend):
    """A provider without webhooks (polling only)."""

    provider = "pollonly"


class NotifyOnlySandbox(SandboxBackend):
    """A provider whose webhooks only say "something changed": the state is fetched from its API."""

    def parse_webhook(self, webhook: InboundWebhook) -> list[ProviderEvent]:
        return [replace(event, state=None) for event in super().parse_webhook(webhook)]


@pytest.fixture
def verification(make_applicant: Any) -> Verification:
    applicant: Applicant = make_applicant()
    return make_verification(
        applicant, V.PROCESSING, provider_verification_id="sbx_ver_abc", provider_status="processing"
    )


def post(
    body: bytes,
    signature: str | None = None,
    *,
    url: str = URL,
    client: Client | None = None,
    sign: bool = True,
) -> Any:
    headers: dict[str, str] = {}
    if sign:
        headers["X-Sandbox-Signature"] = signature or sandbox_signature(body)
    return (client or Client()).post(url, data=body, content_type="application/json", headers=headers)


def deliver(capture: Any, body: bytes, **kwargs: Any) -> Any:
    """POST and run what the view queued on commit (processing), as a worker would."""
    with capture(execute=True):
        return post(body, **kwargs)


def now() -> Any:
    return timezone.now()


# --- authentication and request checks --------------------------------------------------------------------


def test_good_signature_is_stored_and_processed(
    verification: Verification, django_capture_on_commit_callbacks: Any
) -> None:
    document = Document.objects.get(applicant=verification.applicant)
    body = sandbox_event(
        verification,
        "approved",
        now(),
        event_id="evt_1",
        documents=[{"id": str(document.pk), "status": "accepted"}],
    )

    response = deliver(django_capture_on_commit_callbacks, body)

    assert response.status_code == 200
    assert response.json() == {"stored": 1, "duplicates": 0}
    event = WebhookEvent.objects.get()
    assert (event.backend, event.event_id, event.provider_ref) == ("sandbox", "evt_1", "sbx_ver_abc")
    assert event.state == WebhookState.PROCESSED
    assert event.verification_id == verification.pk
    assert event.attempts == 1
    assert event.body == body  # the very bytes that were authenticated
    assert event.headers == {"content-type": "application/json"}  # only allow-listed headers are kept
    verification.refresh_from_db()
    assert verification.status == V.APPROVED
    document.refresh_from_db()
    assert document.status == DocumentStatus.ACCEPTED
    row = AuditEvent.objects.get(object_type="verification")
    assert row.webhook_event_id == event.pk


def test_a_backends_review_headers_are_kept_beside_the_allow_list(
    verification: Verification, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``review_headers`` are stored with the delivery for reviewers (not needed to parse it); the signature is
    not, and other headers are still dropped."""
    monkeypatch.setattr(SandboxBackend, "review_headers", ("X-Delivery-Attempt",))
    body = sandbox_event(verification, "approved", now(), event_id="evt_review_headers")
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(
            URL,
            data=body,
            content_type="application/json",
            headers={"X-Sandbox-Signature": sandbox_signature(body), "X-Delivery-Attempt": "2", "X-Other": "x"},
        )
    assert response.status_code == 200
    assert WebhookEvent.objects.get().headers == {"content-type": "application/json", "x-delivery-attempt": "2"}


def test_bad_signature_is_403_and_nothing_is_stored(
    verification: Verification, rejections: list[dict[str, Any]]
) -> None:
    body = sandbox_event(verification, "approved", now())
    response = post(body, sandbox_signature(body, secret="not-the-secret"))
    assert response.status_code == 403
    assert not WebhookEvent.objects.exists()
    assert rejections == [{"backend": "sandbox", "reason": "signature mismatch", "code": "bad_signature"}]
    assert rejection_counts() == {("sandbox", "bad_signature"): 1}
    verification.refresh_from_db()
    assert verification.status == V.PROCESSING


def test_tampered_body_is_403(verification: Verification) -> None:
    body = sandbox_event(verification, "declined", now())
    signature = sandbox_signature(body)
    response = post(body.replace(b"declined", b"approved"), signature)
    assert response.status_code == 403
    assert not WebhookEvent.objects.exists()


def test_missing_signature_header_is_401(verification: Verification) -> None:
    response = post(sandbox_event(verification, "approved", now()), sign=False)
    assert response.status_code == 401
    assert "X-Sandbox-Signature" in response.json()["detail"]
    assert not WebhookEvent.objects.exists()


def test_signature_without_digest_is_401(verification: Verification) -> None:
    response = post(sandbox_event(verification, "approved", now()), f"t={int(time.time())}")
    assert response.status_code == 401


def test_rotated_secret_is_accepted(verification: Verification, django_capture_on_commit_callbacks: Any) -> None:
    body = sandbox_event(verification, "approved", now())
    response = deliver(django_capture_on_commit_callbacks, body, signature=sandbox_signature(body, SANDBOX_OLD_SECRET))
    assert response.status_code == 200
    verification.refresh_from_db()
    assert verification.status == V.APPROVED


def test_any_matching_signature_in_the_header_is_accepted(verification: Verification) -> None:
    body = sandbox_event(verification, "approved", now())
    good = sandbox_signature(body)
    stamp, digest = good.split(",")
    response = post(body, f"{stamp},v1={'0' * 64},{digest}")
    assert response.status_code == 200


@pytest.mark.parametrize("skew", [-301, 301])
def test_timestamp_outside_tolerance_is_rejected(verification: Verification, skew: int) -> None:
    body = sandbox_event(verification, "approved", now())
    response = post(body, sandbox_signature(body, timestamp=int(time.time()) + skew))
    assert response.status_code == 403
    assert "tolerance" in response.json()["detail"]
    assert not WebhookEvent.objects.exists()


def test_timestamp_inside_tolerance_is_accepted(verification: Verification) -> None:
    body = sandbox_event(verification, "approved", now())
    assert post(body, sandbox_signature(body, timestamp=int(time.time()) - 290)).status_code == 200


@pytest.mark.parametrize("stamp", ["soon", "", "nan", "inf", "-inf", "1e400"])
def test_unusable_timestamp_is_403_not_a_server_error(verification: Verification, stamp: str) -> None:
    body = sandbox_event(verification, "approved", now())
    response = post(body, f"t={stamp},v1={'a' * 64}")
    assert response.status_code == 403
    assert not WebhookEvent.objects.exists()


def test_malformed_json_is_400(rejections: list[dict[str, Any]]) -> None:
    body = b'{"event_id": "evt_1", "status": '
    response = post(body)
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()
    assert rejections[0]["reason"].startswith("malformed sandbox event")


def test_missing_fields_are_400() -> None:
    response = post(json.dumps({"event_id": "evt_1", "status": "approved"}).encode())
    assert response.status_code == 400


def test_empty_body_is_400() -> None:
    assert post(b"").status_code == 400


def test_unknown_alias_is_404(verification: Verification) -> None:
    body = sandbox_event(verification, "approved", now())
    response = post(body, url="/kyc/webhooks/nosuch/")
    assert response.status_code == 404
    assert not WebhookEvent.objects.exists()


def test_backend_without_webhooks_is_404_not_a_server_error() -> None:
    backends = {"pollonly": {"CLASS": f"{__name__}.NoWebhooksBackend"}}
    with override_settings(DJANGO_KYC=kyc_settings_with(BACKENDS=backends, DEFAULT_BACKEND="pollonly")):
        response = post(b'{"event_id": "x"}', url="/kyc/webhooks/pollonly/")
    assert response.status_code == 404


@pytest.mark.parametrize("method", ["get", "put", "delete", "patch"])
def test_only_post_is_allowed(method: str) -> None:
    response = getattr(Client(), method)(URL)
    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_oversized_body_is_413(verification: Verification) -> None:
    body = sandbox_event(verification, "approved", now())
    with override_settings(DJANGO_KYC=kyc_settings_with(WEBHOOK_MAX_BYTES=len(body) - 1)):
        response = post(body)
    assert response.status_code == 413
    assert not WebhookEvent.objects.exists()
    with override_settings(DJANGO_KYC=kyc_settings_with(WEBHOOK_MAX_BYTES=len(body))):
        assert post(body).status_code == 200


def test_csrf_enforcing_client_still_reaches_the_view(verification: Verification) -> None:
    body = sandbox_event(verification, "approved", now())
    response = post(body, client=Client(enforce_csrf_checks=True))
    assert response.status_code == 200
    assert WebhookEvent.objects.count() == 1


# --- de-duplication and ordering -------------------------------------------------------------------------


def test_duplicate_delivery_is_one_event_and_one_change(
    verification: Verification, django_capture_on_commit_callbacks: Any
) -> None:
    body = sandbox_event(verification, "approved", now(), event_id="evt_dup")
    first = deliver(django_capture_on_commit_callbacks, body)
    second = deliver(django_capture_on_commit_callbacks, body)

    assert first.json() == {"stored": 1, "duplicates": 0}
    assert second.status_code == 200
    assert second.json() == {"stored": 0, "duplicates": 1}
    assert WebhookEvent.objects.count() == 1
    assert AuditEvent.objects.filter(object_type="verification").count() == 1


def test_out_of_order_delivery_keeps_the_decision(
    verification: Verification, django_capture_on_commit_callbacks: Any
) -> None:
    decided_at = now()
    decision = sandbox_event(verification, "approved", decided_at, event_id="evt_decision")
    earlier = sandbox_event(verification, "needs_review", decided_at - timedelta(seconds=30), event_id="evt_early")

    deliver(django_capture_on_commit_callbacks, decision)
    deliver(django_capture_on_commit_callbacks, earlier)

    verification.refresh_from_db()
    assert verification.status == V.APPROVED
    assert verification.last_event_at == decided_at
    states = dict(WebhookEvent.objects.values_list("event_id", "state"))
    assert states == {"evt_decision": WebhookState.PROCESSED, "evt_early": WebhookState.IGNORED}
    assert WebhookEvent.objects.get(event_id="evt_early").note == "stale"
    moves = list(AuditEvent.objects.filter(object_type="verification").values_list("from_status", "to_status"))
    assert moves == [(V.PROCESSING, V.APPROVED)]


def test_newer_event_cannot_regress_a_terminal_decision(
    verification: Verification, django_capture_on_commit_callbacks: Any
) -> None:
    decided_at = now()
    deliver(django_capture_on_commit_callbacks, sandbox_event(verification, "approved", decided_at))
    deliver(
        django_capture_on_commit_callbacks,
        sandbox_event(verification, "declined", decided_at + timedelta(seconds=10), event_id="evt_late"),
    )

    verification.refresh_from_db()
    assert verification.status == V.APPROVED
    late = WebhookEvent.objects.get(event_id="evt_late")
    assert (late.state, late.note) == (WebhookState.IGNORED, "terminal")


def test_unknown_provider_status_goes_to_review(
    verification: Verification, django_capture_on_commit_callbacks: Any
) -> None:
    deliver(django_capture_on_commit_callbacks, sandbox_event(verification, "on_hold_compliance", now()))
    verification.refresh_from_db()
    assert (verification.status, verification.provider_status) == (V.REVIEW, "on_hold_compliance")


# --- processing failures and reprocessing ---------------------------------------------------------------


def test_event_for_unknown_verification_retries_then_fails_then_reprocesses(
    make_applicant: Any, django_capture_on_commit_callbacks: Any, time_machine: Any
) -> None:
    time_machine.move_to(timezone.now(), tick=False)
    our_id = uuid.uuid4()
    body = sandbox_event(None, "approved", now(), event_id="evt_early_bird", reference=str(our_id))

    with override_settings(DJANGO_KYC=kyc_settings_with(WEBHOOK_MAX_ATTEMPTS=3)):
        assert deliver(django_capture_on_commit_callbacks, body).status_code == 200
        event = WebhookEvent.objects.get()
        assert event.state == WebhookState.RETRY_WAIT
        assert event.attempts == 1
        assert event.last_error == f"VerificationNotFound: no verification for provider reference {str(our_id)!r}"
        assert event.next_attempt_at is not None
        assert event.next_attempt_at > timezone.now()
        assert sweeper.sweep().webhook_events == 0  # not due yet

        for attempt in (2, 3):
            time_machine.move_to(event.next_attempt_at, tick=False)
            assert sweeper.sweep().webhook_events == 1
            event.refresh_from_db()
            assert event.attempts == attempt
        assert event.state == WebhookState.FAILED
        assert event.next_attempt_at is None
        time_machine.move_to(timezone.now() + timedelta(days=1), tick=False)
        assert sweeper.sweep().webhook_events == 0  # failed stays failed until a person asks

    # the submission commits at last; an operator reprocesses the failed event
    applicant = make_applicant()
    Verification.objects.create(id=our_id, applicant=applicant, backend="sandbox", status=V.PROCESSING)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("kyc_reprocess_webhooks", stdout=io.StringIO())

    event.refresh_from_db()
    assert event.state == WebhookState.PROCESSED
    assert event.verification_id == our_id
    assert Verification.objects.get(pk=our_id).status == V.APPROVED


def test_failed_signal_is_sent_once_attempts_run_out(
    django_capture_on_commit_callbacks: Any, time_machine: Any
) -> None:
    time_machine.move_to(timezone.now(), tick=False)
    failed: list[Any] = []

    def handler(sender: Any, event: WebhookEvent, **kwargs: Any) -> None:
        failed.append(event.event_id)

    signals.webhook_failed.connect(handler, weak=False)
    try:
        body = sandbox_event(None, "approved", now(), event_id="evt_orphan", reference=str(uuid.uuid4()))
        with override_settings(DJANGO_KYC=kyc_settings_with(WEBHOOK_MAX_ATTEMPTS=1)):
            deliver(django_capture_on_commit_callbacks, body)
    finally:
        signals.webhook_failed.disconnect(handler)
    assert failed == ["evt_orphan"]
    assert WebhookEvent.objects.get().state == WebhookState.FAILED


def test_fetch_on_notify_does_not_undo_a_reviewers_request(
    make_applicant: Any, reviewer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Each notification makes us fetch the provider's current state; when that state is the one we already
    applied, it is no news and must not revert what a reviewer decided since."""
    backends = suite_backends(
        notify={
            "CLASS": f"{__name__}.NotifyOnlySandbox",
            "OPTIONS": {"WEBHOOK_SECRET": "notify-secret", "DECISION_DELAY": 0},
        },
    )
    applicant = make_applicant(last_name="Review")
    verification = make_verification(
        applicant, V.PROCESSING, backend="notify", provider_verification_id="sbx_ver_n", submitted_at=now()
    )

    def notify(event_id: str) -> None:
        body = sandbox_event(verification, "changed", now(), event_id=event_id)
        response = deliver(
            django_capture_on_commit_callbacks,
            body,
            url="/kyc/webhooks/notify/",
            signature=sandbox_signature(body, "notify-secret"),
        )
        assert response.status_code == 200

    with override_settings(DJANGO_KYC=kyc_settings_with(BACKENDS=backends)):
        notify("evt_n1")
        verification.refresh_from_db()
        assert (verification.status, verification.provider_status) == (V.REVIEW, "needs_review")

        review.decide(verification.pk, "request_resubmission", user=reviewer, reason_code="DOCUMENT_UNREADABLE")
        notify("evt_n2")

    verification.refresh_from_db()
    assert verification.status == V.RESUBMISSION_REQUESTED
    second = WebhookEvent.objects.get(event_id="evt_n2")
    assert (second.state, second.note) == (WebhookState.IGNORED, "stale")


def test_stored_event_whose_enqueue_was_lost_is_swept(verification: Verification, time_machine: Any) -> None:
    """The on-commit enqueue never ran (broker down, process killed): the sweeper processes it after the grace."""
    time_machine.move_to(timezone.now(), tick=False)
    assert post(sandbox_event(verification, "approved", now())).status_code == 200  # callbacks not run
    assert WebhookEvent.objects.get().state == WebhookState.RECEIVED
    assert sweeper.sweep().webhook_events == 0

    time_machine.move_to(timezone.now() + sweeper.grace(), tick=False)
    assert sweeper.sweep().webhook_events == 1
    assert WebhookEvent.objects.get().state == WebhookState.PROCESSED
    verification.refresh_from_db()
    assert verification.status == V.APPROVED


def test_authentic_body_with_wrongly_typed_fields_is_a_400(verification: Verification) -> None:
    payload = json.loads(sandbox_event(verification, "approved", now()))
    payload["reasons"] = "not-a-list"
    body = json.dumps(payload).encode()
    response = post(body)
    assert response.status_code == 400
    assert WebhookEvent.objects.count() == 0


def test_non_numeric_content_length_is_a_400(verification: Verification) -> None:
    body = sandbox_event(verification, "approved", now())
    response = Client().post(
        URL,
        data=body,
        content_type="application/json",
        CONTENT_LENGTH="12abc",
        headers={"X-Sandbox-Signature": sandbox_signature(body)},
    )
    assert response.status_code == 400
    assert WebhookEvent.objects.count() == 0


# --- every refusal is counted, once, under its reason ---------------------------------------------------


def _request(method: str, url: str = URL, **extra: Any) -> Any:
    return getattr(Client(), method)(url, **extra)


@pytest.mark.parametrize(
    ("send", "status", "counted"),
    [
        pytest.param(
            lambda v: post(sandbox_event(v, "approved", now()), url="/kyc/webhooks/nosuch/"),
            404,
            ("", "unknown_endpoint"),
            id="unknown-alias",
        ),
        *(
            pytest.param(lambda v, m=method: _request(m), 405, ("sandbox", "wrong_method"), id=method)
            for method in ["get", "put", "delete", "patch", "head", "options"]
        ),
        pytest.param(
            lambda v: _request("get", "/kyc/webhooks/nosuch/"), 405, ("", "wrong_method"), id="get-unknown-alias"
        ),
        pytest.param(
            lambda v: Client().post(URL, data=b"{}", content_type="application/json", CONTENT_LENGTH="12abc"),
            400,
            ("sandbox", "bad_length"),
            id="bad-content-length",
        ),
        pytest.param(
            lambda v: Client().post(URL, data=b"{}", content_type="application/json", CONTENT_LENGTH="99999999"),
            413,
            ("sandbox", "too_large"),
            id="declared-too-large",
        ),
        pytest.param(lambda v: post(b"{" + b" " * (1024 * 1024) + b"}"), 413, ("sandbox", "too_large"), id="too-large"),
        pytest.param(lambda v: post(b""), 400, ("sandbox", "empty_body"), id="empty-body"),
        pytest.param(
            lambda v: post(sandbox_event(v, "approved", now()), sign=False),
            401,
            ("sandbox", "missing_signature"),
            id="missing-signature",
        ),
        pytest.param(
            lambda v: post(
                sandbox_event(v, "approved", now()), sandbox_signature(sandbox_event(v, "x", now()), "wrong")
            ),
            403,
            ("sandbox", "bad_signature"),
            id="bad-signature",
        ),
        pytest.param(
            lambda v: post(
                body := sandbox_event(v, "approved", now()), sandbox_signature(body, timestamp=int(time.time()) - 301)
            ),
            403,
            ("sandbox", "stale"),
            id="stale",
        ),
        pytest.param(
            lambda v: post(b'{"event_id": "evt_1", "status": '), 400, ("sandbox", "malformed"), id="malformed"
        ),
    ],
)
def test_each_refusal_is_counted_once_under_its_reason(
    verification: Verification, rejections: list[dict[str, Any]], send: Any, status: int, counted: tuple[str, str]
) -> None:
    response = send(verification)
    assert response.status_code == status, response.content
    assert rejection_counts() == {counted: 1}
    assert [(kwargs["backend"], kwargs["code"]) for kwargs in rejections] == [counted]
    assert not WebhookEvent.objects.exists()


def test_unknown_alias_is_not_stored(verification: Verification) -> None:
    post(sandbox_event(verification, "approved", now()), url="/kyc/webhooks/attacker-chosen-name/")
    _request("put", "/kyc/webhooks/another-attacker-name/")
    assert set(WebhookRejection.objects.values_list("backend", flat=True)) == {""}


def test_backend_without_webhooks_is_counted_as_an_unknown_endpoint() -> None:
    backends = {"pollonly": {"CLASS": f"{__name__}.NoWebhooksBackend"}}
    with override_settings(DJANGO_KYC=kyc_settings_with(BACKENDS=backends, DEFAULT_BACKEND="pollonly")):
        assert post(b'{"event_id": "x"}', url="/kyc/webhooks/pollonly/").status_code == 404
    assert rejection_counts() == {("pollonly", "unknown_endpoint"): 1}


def test_repeated_refusals_increment_one_row(verification: Verification) -> None:
    body = sandbox_event(verification, "approved", now())
    for _ in range(3):
        assert post(body, sandbox_signature(body, secret="nope")).status_code == 403
    assert WebhookRejection.objects.get().count == 3


def test_accepted_delivery_does_not_touch_the_counters(verification: Verification) -> None:
    """The ingest path is benchmarked: counting refusals must not cost an accepted delivery a query."""
    body = sandbox_event(verification, "approved", now())
    with CaptureQueriesContext(connection) as queries:
        assert post(body).status_code == 200
    table = WebhookRejection._meta.db_table
    assert not [query["sql"] for query in queries if table in query["sql"]]
    assert not WebhookRejection.objects.exists()
