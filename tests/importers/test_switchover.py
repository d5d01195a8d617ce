"""After the import, the Onfido backend follows what django-onfido started: the whole move on loopback.

django-onfido's rows are made from the fake Onfido's own answers (as its helpers store Onfido's), the import
runs, and Onfido's webhook for a check still in progress then reaches django-kyc's URL.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client, override_settings

from django_kyc.backends import get_backend
from django_kyc.importers.django_onfido import import_django_onfido
from django_kyc.models import Applicant, Verification
from django_kyc.status import ApplicantStatus, VerificationStatus
from django_kyc.testing.onfido import FakeOnfido
from tests.support import django_onfido as onfido
from tests.support.factories import create_user
from tests.support.kyc_settings import kyc_settings_with, suite_backends

API_TOKEN = "switchover-api-token"
WEBHOOK_TOKEN = "switchover-webhook-token"

pytestmark = pytest.mark.usefixtures("onfido_tables")


@pytest.fixture
def fake() -> Iterator[FakeOnfido]:
    with FakeOnfido(api_token=API_TOKEN, webhook_token=WEBHOOK_TOKEN) as server:
        options = {"API_TOKEN": API_TOKEN, "BASE_URL": server.api_url, "MODE": "api", "WEBHOOK_TOKENS": [WEBHOOK_TOKEN]}
        backends = suite_backends(onfido={"CLASS": "django_kyc.backends.onfido.OnfidoBackend", "OPTIONS": options})
        with override_settings(DJANGO_KYC=kyc_settings_with(BACKENDS=backends)):
            yield server


def started_with_django_onfido(user: Any) -> Any:
    """What django-onfido's ``create_applicant`` and ``create_check`` helpers store: Onfido's answers."""
    client = get_backend("onfido").client
    body = client.create_applicant({"first_name": "Jane", "last_name": "Doe"})
    onfido_applicant = onfido.model("Applicant").objects.create_applicant(user, body)
    check = client.create_check({"applicant_id": body["id"], "report_names": ["watchlist_standard"]})
    return onfido.model("Check").objects.create_check(onfido_applicant, check)


def test_a_check_in_progress_at_the_import_is_decided_by_onfidos_webhook_to_django_kyc(fake: FakeOnfido) -> None:
    user = create_user("pia")
    onfido_check = started_with_django_onfido(user)
    import_django_onfido()
    verification = Verification.objects.get(provider_verification_id=onfido_check.onfido_id)
    assert verification.status == VerificationStatus.PROCESSING

    body, headers = fake.webhook_for(onfido_check.onfido_id, "clear")
    response = Client().post("/kyc/webhooks/onfido/", data=body, content_type="application/json", headers=headers)

    assert response.status_code == 200, response.content
    verification.refresh_from_db()
    assert (verification.status, verification.provider_status) == (VerificationStatus.APPROVED, "complete/clear")
    assert Applicant.objects.get(user=user).status == ApplicantStatus.VERIFIED
