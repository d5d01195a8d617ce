"""The admin of outbound events: the secret shown once, settings endpoints read-only, attempts visible, and
resend / replay only with their permission."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from django_kyc.models import Delivery, DeliveryAttempt, DeliveryState, Endpoint, EndpointSource, OutboundEvent
from django_kyc.outbound import generate_secret
from django_kyc.outbound.signing import secret_key

pytestmark = pytest.mark.django_db

ENDPOINT_ADMIN = ("django_kyc.view_endpoint", "django_kyc.add_endpoint", "django_kyc.change_endpoint")


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def changelist(model: type[Any]) -> str:
    return reverse(f"admin:django_kyc_{model._meta.model_name}_changelist")


def test_the_secret_is_shown_once_on_the_page_after_adding(make_user: Callable[..., User]) -> None:
    client = login(make_user("ops", *ENDPOINT_ADMIN, staff=True))
    response = client.post(
        reverse("admin:django_kyc_endpoint_add"),
        {
            "name": "billing",
            "url": "https://billing.example/in",
            "event_types": ["applicant.verified"],
            "enabled": "on",
        },
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    shown = re.search(r'id="kyc-endpoint-secret"[^>]*>(whsec_[^<]+)<', response.content.decode())
    assert shown is not None
    endpoint = Endpoint.objects.get(name="billing")
    assert shown[1] == endpoint.secret
    assert len(secret_key(endpoint.secret)) == 32
    assert (endpoint.source, endpoint.event_types) == (EndpointSource.ADMIN, ["applicant.verified"])
    page = client.get(reverse("admin:django_kyc_endpoint_change", args=[endpoint.pk])).content.decode()
    assert endpoint.secret not in page
    assert endpoint.secret not in client.get(changelist(Endpoint)).content.decode()


def test_an_http_url_is_refused_when_debug_is_off(make_user: Callable[..., User]) -> None:
    client = login(make_user("ops", *ENDPOINT_ADMIN, staff=True))
    response = client.post(
        reverse("admin:django_kyc_endpoint_add"),
        {"name": "plain", "url": "http://billing.example/in", "event_types": ["*"], "enabled": "on"},
    )
    assert response.status_code == 200
    assert "only https" in response.content.decode()
    assert not Endpoint.objects.exists()


def test_rotating_shows_the_new_secret_once_and_keeps_the_old_one_signing(make_user: Callable[..., User]) -> None:
    endpoint = Endpoint.objects.create(
        name="crm", url="https://crm.example/", event_types=["*"], secret=generate_secret()
    )
    old = endpoint.secret
    client = login(make_user("ops", *ENDPOINT_ADMIN, staff=True))
    response = client.post(changelist(Endpoint), {"action": "rotate_secret", "_selected_action": [str(endpoint.pk)]})
    endpoint.refresh_from_db()
    assert endpoint.secret != old
    assert endpoint.previous_secret == old
    assert endpoint.secret in response.content.decode()
    assert old not in response.content.decode()


def test_a_settings_endpoint_can_only_be_enabled_or_disabled(make_user: Callable[..., User]) -> None:
    endpoint = Endpoint.objects.create(
        name="ledger", url="https://ledger.example/", event_types=["*"], source=EndpointSource.SETTINGS, enabled=False
    )
    client = login(make_user("ops", *ENDPOINT_ADMIN, staff=True))
    url = reverse("admin:django_kyc_endpoint_change", args=[endpoint.pk])
    response = client.post(url, {"enabled": "on", "url": "https://evil.example/", "name": "x"})
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.enabled, endpoint.url, endpoint.name) == (True, "https://ledger.example/", "ledger")


def failed_delivery() -> Delivery:
    endpoint = Endpoint.objects.create(
        name="svc", url="https://svc.example/", event_types=["*"], secret=generate_secret()
    )
    from django.utils import timezone

    event = OutboundEvent.objects.create(
        event_type="applicant.erased", subject_type="applicant", subject_id="x", data={}, occurred_at=timezone.now()
    )
    delivery = Delivery.objects.create(event=event, endpoint=endpoint, state=DeliveryState.FAILED, attempts=8)
    DeliveryAttempt.objects.create(
        delivery=delivery, number=8, started_at=timezone.now(), status_code=503, error="HTTP 503", response_body="busy"
    )
    return delivery


def test_attempts_are_visible_to_viewers_who_cannot_resend(make_user: Callable[..., User]) -> None:
    delivery = failed_delivery()
    client = login(make_user("viewer", "django_kyc.view_delivery", staff=True))
    listing = client.get(changelist(Delivery) + "?state=failed")
    assert listing.status_code == 200
    assert "applicant.erased" in listing.content.decode()
    assert 'value="resend"' not in listing.content.decode()
    page = client.get(reverse("admin:django_kyc_delivery_change", args=[delivery.pk])).content.decode()
    assert "HTTP 503" in page
    assert "busy" in page
    client.post(changelist(Delivery), {"action": "resend", "_selected_action": [str(delivery.pk)]})
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.FAILED


def test_resend_needs_its_permission_and_queues_the_delivery(make_user: Callable[..., User]) -> None:
    delivery = failed_delivery()
    client = login(make_user("ops", "django_kyc.view_delivery", "django_kyc.resend_delivery", staff=True))
    response = client.post(changelist(Delivery), {"action": "resend", "_selected_action": [str(delivery.pk)]})
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.PENDING, 0)


def test_replay_since_asks_for_the_date_then_replays(make_user: Callable[..., User]) -> None:
    delivery = failed_delivery()
    client = login(
        make_user(
            "ops", "django_kyc.view_endpoint", "django_kyc.resend_delivery", "django_kyc.view_delivery", staff=True
        )
    )
    selected = {"action": "replay_since", "_selected_action": [str(delivery.endpoint_id)]}
    form = client.post(changelist(Endpoint), selected)
    assert form.status_code == 200
    assert 'name="since"' in form.content.decode()
    done = client.post(
        changelist(Endpoint),
        {**selected, "since_0": "2000-01-01", "since_1": "00:00:00", "since": "2000-01-01 00:00:00"},
    )
    assert done.status_code == 302
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PENDING
    # without the permission the action is not offered
    viewer = login(make_user("viewer", "django_kyc.view_endpoint", staff=True))
    assert 'value="replay_since"' not in viewer.get(changelist(Endpoint)).content.decode()
