"""The outbox's retention: settled events past OUTBOUND_EVENT_RETENTION_DAYS go, open ones and recent ones stay."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from django_kyc import tasks
from django_kyc.models import Delivery, DeliveryAttempt, DeliveryState, Endpoint, OutboundEvent
from django_kyc.outbound import generate_secret
from django_kyc.services import outbound
from tests.support.kyc_settings import kyc_settings_with

pytestmark = pytest.mark.django_db


def event_with_delivery(endpoint: Endpoint, *, age_days: int, state: str) -> OutboundEvent:
    event = OutboundEvent.objects.create(
        event_type="applicant.review_due",
        version=1,
        subject_type="applicant",
        subject_id="a",
        data={},
        occurred_at=timezone.now() - timedelta(days=age_days),
    )
    delivery = Delivery.objects.create(event=event, endpoint=endpoint, state=state)
    DeliveryAttempt.objects.create(delivery=delivery, number=1, started_at=timezone.now(), status_code=200)
    return event


@pytest.fixture
def endpoint() -> Endpoint:
    return Endpoint.objects.create(name="billing", url="https://billing.example/hooks", secret=generate_secret())


def test_settled_events_past_the_retention_go_with_their_deliveries_and_attempts(endpoint: Endpoint) -> None:
    old_delivered = event_with_delivery(endpoint, age_days=91, state=DeliveryState.DELIVERED)
    old_failed = event_with_delivery(endpoint, age_days=400, state=DeliveryState.FAILED)
    recent = event_with_delivery(endpoint, age_days=89, state=DeliveryState.DELIVERED)
    still_tried = event_with_delivery(endpoint, age_days=200, state=DeliveryState.RETRY_WAIT)

    assert outbound.purge_settled_events(batch_size=1) == 2

    assert set(OutboundEvent.objects.values_list("pk", flat=True)) == {recent.pk, still_tried.pk}
    assert not Delivery.objects.filter(event_id__in=[old_delivered.pk, old_failed.pk]).exists()
    assert DeliveryAttempt.objects.count() == 2


def test_none_keeps_every_event(endpoint: Endpoint) -> None:
    event_with_delivery(endpoint, age_days=4000, state=DeliveryState.DELIVERED)
    with override_settings(DJANGO_KYC=kyc_settings_with(OUTBOUND_EVENT_RETENTION_DAYS=None)):
        assert outbound.purge_settled_events() == 0
    assert OutboundEvent.objects.count() == 1


def test_the_daily_purge_task_reports_the_events_it_deleted(endpoint: Endpoint) -> None:
    event_with_delivery(endpoint, age_days=120, state=DeliveryState.ENDPOINT_DISABLED)
    with override_settings(DJANGO_KYC=kyc_settings_with(OUTBOUND_EVENT_RETENTION_DAYS=30)):
        assert tasks.purge_expired().endswith(" outbound_events=1")
    assert not OutboundEvent.objects.exists()
