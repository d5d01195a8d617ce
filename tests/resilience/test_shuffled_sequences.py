"""Every provider's realistic event sequence, delivered in shuffled orders, ends where the ordered delivery
ends. The fakes produce the deliveries (``decide`` then ``webhook_for``), signed as the provider signs them;
each order runs against its own verification, through the webhook view, processed as a worker would."""

from __future__ import annotations

import itertools
import random
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from django_kyc.backends import get_backend
from django_kyc.backends.sandbox import SIGNATURE_HEADER, SandboxBackend
from django_kyc.models import AuditEvent, Verification, WebhookEvent
from django_kyc.services import submission
from django_kyc.services.audit import Change
from django_kyc.status import Source, VerificationStatus
from tests.resilience.providers import new_applicant, provider

pytestmark = [pytest.mark.resilience, pytest.mark.django_db]

V = VerificationStatus
#: provider -> (outcomes in the order the provider reports them, the expected final status)
SEQUENCES: dict[str, tuple[list[str], str]] = {
    "provide": (["pending", "submitted", "review", "accepted"], V.APPROVED),
    "kycaid": (["pending", "undecided", "declined"], V.DECLINED),
    "argos": (["incomplete", "pending", "approved"], V.APPROVED),
    "passportreader": (["INITIATED", "COMPLETED", "APPROVED"], V.APPROVED),
    "allpass": (["INCOMPLETE", "IN_PROGRESS", "COMPLETED", "IN_REVIEW", "REJECTED"], V.DECLINED),
}
SANDBOX_SEQUENCE = (["processing", "needs_review", "approved"], V.APPROVED)
SHUFFLES = 4


def orders(count: int, seed: str) -> list[list[int]]:
    """The ordered delivery first, then the reverse, then ``SHUFFLES`` distinct seeded permutations."""
    rng = random.Random(seed)
    ordered = list(range(count))
    picked = [ordered, ordered[::-1]]
    candidates = [list(p) for p in itertools.permutations(ordered) if list(p) not in picked]
    rng.shuffle(candidates)
    return picked + candidates[:SHUFFLES]


def post(url: str, body: bytes, headers: dict[str, str], content_type: str, capture: Any) -> int:
    with capture(execute=True):  # processing runs as the delivery commits (sync mode), like a worker
        return Client().post(url, data=body, content_type=content_type, headers=headers).status_code


def final(verification: Verification) -> tuple[str, str]:
    verification.refresh_from_db()
    return verification.status, verification.provider_status


def status_changes(verification: Verification) -> list[tuple[str, str]]:
    rows = AuditEvent.objects.filter(object_id=str(verification.pk), action="status_change").order_by("created_at")
    return list(rows.values_list("from_status", "to_status"))


@pytest.mark.parametrize("name", list(SEQUENCES))
def test_provider_sequence_in_any_order_ends_like_the_ordered_delivery(
    name: str, make_applicant: Any, time_machine: Any, django_capture_on_commit_callbacks: Any
) -> None:
    outcomes, expected = SEQUENCES[name]
    time_machine.move_to(timezone.now(), tick=False)
    results = []
    with provider(name) as (hooks, server):
        for index, order in enumerate(orders(len(outcomes), name)):
            person = User.objects.create_user(f"{name}-order-{index}")  # one applicant per user
            verification = hooks.start(new_applicant(make_applicant, person, last_name=f"Order{index}"))
            submission.submit_verification(verification.pk)
            verification.refresh_from_db()
            hooks.complete_hosted_flow(server, verification)
            verification.refresh_from_db()
            ref = hooks.ref(verification)
            assert ref, verification.last_error
            deliveries = []
            for outcome in outcomes:
                time_machine.shift(timedelta(seconds=2))  # the provider's events are seconds apart
                server.decide(ref, outcome)
                deliveries.append(server.webhook_for(ref))
            time_machine.shift(timedelta(seconds=2))
            for position in order:
                body, headers = deliveries[position]
                status = post(
                    "/kyc/webhooks/contract/",
                    body,
                    headers,
                    hooks.WEBHOOK_CONTENT_TYPE,
                    django_capture_on_commit_callbacks,
                )
                assert status == 200, (order, outcomes[position], status)
            assert not WebhookEvent.objects.exclude(state__in=["processed", "ignored"]).exists()
            results.append((order, final(verification), status_changes(verification)))

    ordered_final = results[0][1]
    assert ordered_final[0] == expected, results[0]
    for order, outcome, changes in results[1:]:
        assert outcome == ordered_final, (name, order, outcome, ordered_final)
        assert len(changes) == len(set(changes)), changes  # no move recorded twice
        assert changes[-1][1] == expected, changes


def test_sandbox_sequence_in_any_order_ends_like_the_ordered_delivery(
    make_applicant: Any, django_capture_on_commit_callbacks: Any
) -> None:
    raws, expected = SANDBOX_SEQUENCE
    results = []
    for index, order in enumerate(orders(len(raws), "sandbox")):
        applicant = make_applicant(user=None, last_name=f"Order{index}")
        verification = submission.start_verification(applicant, Change.system(Source.API), backend="sandbox")
        backend = get_backend("sandbox")
        assert isinstance(backend, SandboxBackend)
        submission.submit_verification(verification.pk)  # its own decision is queued on commit: never runs here
        verification.refresh_from_db()
        assert verification.status == V.PROCESSING
        start = timezone.now()
        deliveries = []
        for step, raw in enumerate(raws, start=1):
            state = backend.decided_state(verification, chosen=raw, when=start + timedelta(seconds=step))
            if raw == "processing":
                state = type(state)(status=V.PROCESSING, provider_status=raw, occurred_at=state.occurred_at)
            body = backend.build_event(verification, state)
            deliveries.append((body, {SIGNATURE_HEADER: backend.sign(body)}))
        for position in order:
            body, headers = deliveries[position]
            status = post(
                "/kyc/webhooks/sandbox/", body, headers, "application/json", django_capture_on_commit_callbacks
            )
            assert status == 200, (order, raws[position], status)
        results.append((order, final(verification), status_changes(verification)))

    ordered_final = results[0][1]
    assert ordered_final == (expected, raws[-1]), results[0]
    for order, outcome, changes in results[1:]:
        assert outcome == ordered_final, (order, outcome, ordered_final)
        assert len(changes) == len(set(changes)), changes
