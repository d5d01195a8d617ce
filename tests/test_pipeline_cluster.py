"""The whole flow through a real ``qcluster`` process: ORM broker and Redis broker."""

from __future__ import annotations

import pytest
from django.db import connection

from django_kyc.models import AuditEvent, Verification, WebhookEvent
from django_kyc.status import ApplicantStatus, VerificationStatus
from tests.support.qcluster import qcluster, use_broker, wait_for
from tests.support.services import redis_available, require_service

pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    "broker",
    [pytest.param("orm", id="orm-broker"), pytest.param("redis", id="redis-broker", marks=pytest.mark.redis)],
)
def test_api_to_decision_through_qcluster(broker, user, client_for, png, monkeypatch):
    if broker == "redis":
        require_service("Redis", redis_available(), "set REDIS_URL or start redis-server on 127.0.0.1:6379")
    with qcluster(broker) as queue:
        use_broker(monkeypatch, broker, queue)
        from django_q.brokers import get_broker

        assert type(get_broker()).__name__ == {"orm": "ORM", "redis": "Redis"}[broker]
        client = client_for(user)
        applicant_id = client.post("/kyc/api/applicants/", {"last_name": "Doe"}, format="json").json()["id"]
        upload = client.post(
            f"/kyc/api/applicants/{applicant_id}/documents/", {"type": "passport", "file": png()}, format="multipart"
        )
        assert upload.status_code == 201, upload.content
        started = client.post(f"/kyc/api/applicants/{applicant_id}/verifications/", {}, format="json")
        assert started.status_code == 201, started.content
        verification_id = started.json()["id"]

        def decided() -> bool:
            connection.close()  # see rows committed by the cluster's processes
            return Verification.objects.get(pk=verification_id).status == VerificationStatus.APPROVED

        assert wait_for(decided, timeout=60), Verification.objects.values("status", "last_error").get(
            pk=verification_id
        )

    verification = Verification.objects.select_related("applicant").get(pk=verification_id)
    assert verification.applicant.status == ApplicantStatus.VERIFIED
    assert verification.provider_verification_id.startswith("sbx_ver_")
    assert WebhookEvent.objects.filter(verification=verification, state="processed").exists()
    final = AuditEvent.objects.get(object_type="verification", object_id=verification_id, to_status="approved")
    assert final.source == "webhook"
    assert final.webhook_event_id is not None
    assert client_for(user).get(f"/kyc/api/verifications/{verification_id}/").json()["status"] == "approved"


def test_wallet_screening_through_the_api_and_qcluster(user, client_for, monkeypatch):
    from django_kyc.models import AmlCheck

    with qcluster("orm") as queue:
        use_broker(monkeypatch, "orm", queue)
        client = client_for(user)
        applicant_id = client.post("/kyc/api/applicants/", {"last_name": "Doe"}, format="json").json()["id"]
        started = client.post(
            f"/kyc/api/applicants/{applicant_id}/aml-checks/",
            {"subject": "wallet", "blockchain": "bitcoin", "address": "1BadExchangeWallet"},
            format="json",
        )
        assert started.status_code == 201, started.content
        check_id = started.json()["id"]

        def settled() -> bool:
            connection.close()
            return AmlCheck.objects.get(pk=check_id).status not in ("pending", "running")

        assert wait_for(settled, timeout=60)
    result = client_for(user).get(f"/kyc/api/aml-checks/{check_id}/").json()
    assert (result["status"], result["risk_level"]) == ("potential_match", "high")
    assert [hit["caption"] for hit in result["hits"]] == ["Sandbox sanctioned exchange"]
