"""What providers send carries person data (the sandbox echoes the last name; real providers send names, dates of
birth, document numbers): the webhook inbox's raw bodies, verifications' and AML checks' provider payloads are
shown only to staff with ``view_applicant_pii``, by one rule."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.db.models import Model
from django.test import Client
from django.urls import reverse

from django_kyc.backends import get_backend
from django_kyc.backends.sandbox import SandboxBackend
from django_kyc.models import AmlCheck, Applicant, Verification, WebhookEvent, WebhookState
from django_kyc.services import aml
from django_kyc.services.audit import Change
from tests.support.factories import make_verification

pytestmark = pytest.mark.django_db
MARKER = "Quillfeatherstone"


def seed(applicant: Applicant, model: type[Model]) -> Model:
    """A row of ``model`` whose provider data names the applicant, as the provider would have sent it."""
    verification = make_verification(applicant)
    backend = get_backend("sandbox")
    assert isinstance(backend, SandboxBackend)
    state = backend.decided_state(verification)
    if model is WebhookEvent:
        body = backend.build_event(verification, state)
        assert MARKER.lower().encode() in body  # the sandbox's rule echoes the last name
        return WebhookEvent.objects.create(
            backend="sandbox",
            event_id=json.loads(body)["event_id"],
            body=body,
            verification=verification,
            state=WebhookState.PROCESSED,
        )
    if model is Verification:
        Verification.objects.filter(pk=verification.pk).update(provider_data=dict(state.data))
        return verification
    check = aml.start_check(applicant, Change.system())
    AmlCheck.objects.filter(pk=check.pk).update(provider_data={"name": MARKER})
    return check


def staff(username: str, model: type[Model], *, with_pii: bool) -> Client:
    codenames = [f"view_{model._meta.model_name}", *(["view_applicant_pii"] if with_pii else [])]
    user = User.objects.create_user(username=username, password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="django_kyc", codename__in=codenames))
    client = Client()
    client.force_login(User.objects.get(pk=user.pk))
    return client


@pytest.mark.parametrize("model", [WebhookEvent, Verification, AmlCheck], ids=["webhook-body", "verification", "aml"])
def test_provider_data_is_shown_only_with_the_pii_permission(make_applicant: Any, model: type[Model]) -> None:
    row = seed(make_applicant(last_name=MARKER), model)
    url = reverse(f"admin:django_kyc_{model._meta.model_name}_change", args=[row.pk])
    hidden = staff("reviewer", model, with_pii=False).get(url)
    assert hidden.status_code == 200
    assert MARKER.lower() not in hidden.content.decode().lower()
    shown = staff("trusted", model, with_pii=True).get(url)
    assert MARKER.lower() in shown.content.decode().lower()
