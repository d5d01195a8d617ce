"""Provide (gateway to Vouched / IdentityMind) against its fake server, plus what only Provide has
(``docs/providers/provide.md``). The status table alone: ``test_provide_statuses.py``."""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any

import pytest
from django.test import override_settings

from django_kyc.backends import get_backend
from django_kyc.backends.base import InboundWebhook
from django_kyc.backends.provide import ProvideBackend, provide_error_message
from django_kyc.exceptions import WebhookAuthenticationError
from django_kyc.models import Applicant, AuditEvent, Verification
from django_kyc.services import review
from django_kyc.status import VerificationStatus
from django_kyc.testing import FakeProviderServer
from django_kyc.testing.provide import FakeProvide
from tests.backends.contract import ALIAS, BackendContract
from tests.support.files import make_png

V = VerificationStatus
USER_ID_FOR = "tests.backends.test_provide.provide_user_for"
#: not callable: USER_ID_FOR must name a function
NOT_A_FUNCTION = "a string"


def provide_user_for(applicant: Applicant) -> str | None:
    """A site's mapping of applicants to their own Provide users (here derived from the applicant's id)."""
    if applicant.last_name == "Unmapped":
        return None
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"provide-user:{applicant.pk}"))


class TestProvideContract(BackendContract):
    backend_class = "django_kyc.backends.provide.ProvideBackend"
    server_class = FakeProvide
    STATUS_TABLE = [
        ("pending", V.PROCESSING),
        ("submitted", V.PROCESSING),
        ("review", V.REVIEW),
        ("remediate", V.RESUBMISSION_REQUESTED),
        ("accepted", V.APPROVED),
        ("rejected", V.DECLINED),
        ("failed", V.ERROR),
    ]
    UNKNOWN_OUTCOME = "escalated"
    PROGRESS_OUTCOME = "submitted"
    APPROVED_OUTCOME = "accepted"
    SIGNATURE_HEADER = "X-Request-Signature"
    TIMESTAMPED = True
    CREATE_CALL = ("POST", r"/api/v1/kyc_applications")

    def server_kwargs(self) -> dict[str, Any]:
        return {"token": "jwt-for-tests", "webhook_secret": "whsec_current"}

    def backend_options(self, server: FakeProviderServer) -> dict[str, Any]:
        assert isinstance(server, FakeProvide)
        return {
            "TOKEN": "jwt-for-tests",
            "BASE_URL": server.api_base,
            "WEBHOOK_URL": f"http://testserver/kyc/webhooks/{ALIAS}/",
            "WEBHOOK_SECRET": "whsec_current",
        }

    def wrong_credentials(self, options: dict[str, Any]) -> dict[str, Any]:
        return {**options, "TOKEN": "expired-jwt"}

    def rotated(self, options: dict[str, Any], server: FakeProviderServer) -> dict[str, Any]:
        return {**options, "WEBHOOK_SECRET": ["whsec_next", "whsec_current"]}

    def stale_delivery(self, server: FakeProviderServer, ref: str) -> tuple[bytes, dict[str, str]]:
        return server.webhook_for(ref, timestamp=int(time.time()) - 301)

    # --- Provide only ----------------------------------------------------------------------------------
    @pytest.mark.django_db
    def test_application_carries_normalised_params_and_photos(
        self, server: FakeProvide, submitted: Verification
    ) -> None:
        application = server.applications[submitted.provider_verification_id]
        params = application["params"]
        assert (application["provider"], application["type"]) == ("vouched", "kyc")
        assert (params["first_name"], params["last_name"], params["date_of_birth"]) == ("Jane", "Smith", "1990-02-03")
        assert params["webhook_url"] == f"http://testserver/kyc/webhooks/{ALIAS}/"
        assert base64.b64decode(params["id_photo"]) == make_png()  # the passport image, decrypted, in base64
        assert params["selfie"] == ""

    @pytest.mark.django_db
    def test_decision_is_fetched_not_taken_from_the_webhook(
        self, server: FakeProvide, submitted: Verification, django_capture_on_commit_callbacks: Any
    ) -> None:
        """The webhook says 'accepted' but the application says 'rejected': the application wins."""
        ref = submitted.provider_verification_id
        server.decide(ref, "rejected")
        body, headers = server.webhook_for(ref, outcome="accepted")
        assert self.post(django_capture_on_commit_callbacks, body, headers).status_code == 200
        submitted.refresh_from_db()
        assert submitted.status == V.DECLINED
        assert submitted.provider_data["provider_representation"]["status"] == "completed"

    @pytest.mark.django_db
    def test_reviewer_decision_is_pushed_when_configured(
        self,
        server: FakeProvide,
        options: dict[str, Any],
        applicant: Any,
        reviewer: Any,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        from django_kyc.services import submission

        with self.configured({**options, "PUSH_DECISIONS": True}):
            verification = self.start(applicant)
            submission.submit_verification(verification.pk)
            verification.refresh_from_db()
            ref = verification.provider_verification_id
            server.decide(ref, "review")
            assert self.post(django_capture_on_commit_callbacks, *server.webhook_for(ref)).status_code == 200
            with django_capture_on_commit_callbacks(execute=True):
                review.decide(verification.pk, "approve", user=reviewer, reason_code="VERIFIED_MANUALLY")
        assert server.applications[ref]["status"] == "accepted"
        assert AuditEvent.objects.filter(object_id=str(verification.pk), action="decision_pushed").count() == 1

    @pytest.mark.django_db
    def test_failed_push_is_visible_and_the_local_decision_stands(
        self,
        server: FakeProvide,
        options: dict[str, Any],
        applicant: Any,
        reviewer: Any,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        from django_kyc.services import submission

        with self.configured({**options, "PUSH_DECISIONS": True}):
            verification = self.start(applicant)
            submission.submit_verification(verification.pk)
            ref = Verification.objects.get(pk=verification.pk).provider_verification_id
            server.decide(ref, "review")
            assert self.post(django_capture_on_commit_callbacks, *server.webhook_for(ref)).status_code == 200
            server.fail_next(1, status=422, message="invalid state transition")
            with django_capture_on_commit_callbacks(execute=True):
                review.decide(verification.pk, "decline", user=reviewer, reason_code="SUSPECTED_FRAUD")
        verification.refresh_from_db()
        assert verification.status == V.DECLINED
        assert "invalid state transition" in verification.last_error
        assert AuditEvent.objects.filter(object_id=str(verification.pk), action="push_failed").exists()

    # --- user ids ----------------------------------------------------------------------------------------
    @pytest.mark.django_db
    def test_user_id_for_maps_each_applicant_to_their_own_provide_user(
        self, server: FakeProvide, options: dict[str, Any], applicant: Applicant, make_applicant: Any
    ) -> None:
        from django_kyc.services import submission

        unmapped = make_applicant(last_name="Unmapped")
        with self.configured({**options, "USER_ID": "static-user", "USER_ID_FOR": USER_ID_FOR}):
            for person in (applicant, unmapped):
                submission.submit_verification(self.start(person).pk)
        sent = {item["name"]: item["user_id"] for item in server.applications.values()}
        assert sent == {"Jane Smith": provide_user_for(applicant), "Jane Unmapped": "static-user"}

    @pytest.mark.django_db
    def test_static_user_id_stays_the_default(
        self, server: FakeProvide, options: dict[str, Any], applicant: Any
    ) -> None:
        from django_kyc.services import submission

        with self.configured({**options, "USER_ID": "static-user"}):
            submission.submit_verification(self.start(applicant).pk)
        assert [item["user_id"] for item in server.applications.values()] == ["static-user"]

    # --- answers lost after Provide created the application ------------------------------------------------
    def lose_the_create_answer(self, server: FakeProvide, time_machine: Any, verification: Verification) -> None:
        from django.utils import timezone

        from django_kyc.services import submission

        server.fail_next(1, kind="lost", method="POST", path="/api/v1/kyc_applications")
        submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert (verification.status, server.applicant_count()) == (V.PENDING, 1)
        time_machine.move_to(verification.next_attempt_at or timezone.now(), tick=False)
        submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert verification.status == V.PROCESSING, verification.last_error

    @pytest.mark.django_db
    def test_with_user_id_for_a_lost_application_is_found_again(
        self, server: FakeProvide, options: dict[str, Any], applicant: Applicant, time_machine: Any
    ) -> None:
        from django.utils import timezone

        time_machine.move_to(timezone.now(), tick=False)
        with self.configured({**options, "USER_ID_FOR": USER_ID_FOR}):
            verification = self.start(applicant)
            self.lose_the_create_answer(server, time_machine, verification)
        (only,) = server.applications
        assert verification.provider_verification_id == only
        assert not AuditEvent.objects.filter(object_id=str(verification.pk), action="possible_duplicate").exists()
        assert "unanswered_creates" not in verification.provider_data

    @pytest.mark.django_db
    def test_the_lookup_walks_every_page_back_to_the_verification(
        self,
        server: FakeProvide,
        options: dict[str, Any],
        applicant: Applicant,
        make_applicant: Any,
        time_machine: Any,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        from django.utils import timezone

        from django_kyc.services import submission

        monkeypatch.setattr(ProvideBackend, "LOOKUP_PAGE_SIZE", 2)
        time_machine.move_to(timezone.now(), tick=False)
        with self.configured({**options, "USER_ID_FOR": USER_ID_FOR}):
            verification = self.start(applicant)
            server.fail_next(1, kind="lost", method="POST", path="/api/v1/kyc_applications")
            submission.submit_verification(verification.pk)
            for n in range(4):  # other people's applications, newer than the lost one
                submission.submit_verification(self.start(make_applicant(last_name=f"Other{n}")).pk)
            time_machine.move_to(Verification.objects.get(pk=verification.pk).next_attempt_at, tick=False)
            server.calls.clear()
            submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert server.applicant_count() == 5
        assert server.applications[verification.provider_verification_id]["name"] == "Jane Smith"
        pages = [call for call in server.calls if call == ("GET", "/api/v1/kyc_applications")]
        assert len(pages) == 3

    @pytest.mark.django_db
    def test_without_user_id_for_the_lost_application_is_reported(
        self, server: FakeProvide, options: dict[str, Any], applicant: Applicant, time_machine: Any
    ) -> None:
        """Every application then has the same user: nothing tells ours apart, so none is adopted (it could be
        someone else's) and the audit trail names the possible duplicate."""
        from django.utils import timezone

        time_machine.move_to(timezone.now(), tick=False)
        with self.configured({**options, "USER_ID": "static-user"}):
            verification = self.start(applicant)
            self.lose_the_create_answer(server, time_machine, verification)
        assert server.applicant_count() == 2
        (row,) = AuditEvent.objects.filter(object_id=str(verification.pk), action="possible_duplicate")
        assert (row.data["kind"], row.data["call"]) == ("application", "POST /kyc_applications")

    @pytest.mark.django_db
    def test_an_ambiguous_lookup_adopts_nothing(
        self, server: FakeProvide, options: dict[str, Any], applicant: Applicant, time_machine: Any
    ) -> None:
        """Two applications of this user that no verification holds: nothing says which one the lost call
        made, so neither is adopted; a new one is created and the lost call reported."""
        import requests
        from django.utils import timezone

        from django_kyc.services import submission

        time_machine.move_to(timezone.now(), tick=False)
        with self.configured({**options, "USER_ID_FOR": USER_ID_FOR}):
            verification = self.start(applicant)
            server.fail_next(1, kind="lost", method="POST", path="/api/v1/kyc_applications")
            submission.submit_verification(verification.pk)
            stray = {"user_id": provide_user_for(applicant), "params": {"first_name": "Jane", "last_name": "Smith"}}
            answer = requests.post(
                f"{server.api_base}kyc_applications",
                json=stray,
                headers={"Authorization": "bearer jwt-for-tests"},
                timeout=5,
            )
            assert answer.status_code == 201
            time_machine.move_to(Verification.objects.get(pk=verification.pk).next_attempt_at, tick=False)
            submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert verification.status == V.PROCESSING
        assert server.applicant_count() == 3
        assert verification.provider_verification_id != answer.json()["id"]
        assert AuditEvent.objects.filter(object_id=str(verification.pk), action="possible_duplicate").count() == 1

    @pytest.mark.django_db
    def test_list_applications_reads_the_total_header(self, server: FakeProvide, submitted: Verification) -> None:
        backend = get_backend(ALIAS)
        assert isinstance(backend, ProvideBackend)
        items, total = backend.client.list_applications(status="pending")
        assert total == len(items) == 1
        assert items[0]["id"] == submitted.provider_verification_id
        assert backend.client.list_applications(status="accepted") == ([], 0)


def test_self_computed_signature_vector() -> None:
    """The check vector of docs/providers/provide.md ("Webhooks"): secret whsec_test, t=1700000000, body → the
    documented header value."""
    backend = ProvideBackend("provide", {"TOKEN": "x", "WEBHOOK_SECRET": "whsec_test"})
    body = b'{"kyc_application_id":"205d1f45-4b45-4d85-a692-8db40d94ab89","status":"accepted"}'
    assert backend.sign(body, 1700000000) == (
        "t=1700000000,s=69fa93b7ecd85f26e3f28d0e9f56dc920e7dc428c1c057ba0749365b8597b3bd"
    )


@pytest.mark.parametrize("tolerance", [5, 300])
def test_tolerance_is_configurable(tolerance: int) -> None:
    backend = ProvideBackend("provide", {"TOKEN": "x", "WEBHOOK_SECRET": "s", "TOLERANCE": tolerance})
    body = b'{"kyc_application_id":"a","status":"accepted"}'
    stamp = int(time.time()) - 60
    webhook = InboundWebhook(body=body, headers={"X-Request-Signature": backend.sign(body, stamp)})
    if tolerance < 60:
        with pytest.raises(WebhookAuthenticationError):
            backend.authenticate_webhook(webhook)
    else:
        backend.authenticate_webhook(webhook)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"message": "kyc application not found"}, "kyc application not found"),  # provide.RenderError
        ({"errors": [{"message": "invalid status", "status": 422}]}, "invalid status"),  # a failed update
        ({"errors": [{"message": "a"}, {"message": "b"}]}, "a; b"),
        ({"errors": ["plain text"]}, "plain text"),
        ({"errors": [], "message": "both"}, "both"),
        ({}, "Unprocessable Entity"),
        ([], "Unprocessable Entity"),
    ],
)
def test_both_error_shapes_keep_their_message(body: Any, expected: str) -> None:
    import json

    import requests

    response = requests.Response()
    response.status_code, response.reason, response._content = 422, "Unprocessable Entity", json.dumps(body).encode()
    assert provide_error_message(response) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("tests.backends.test_provide.no_such_function", "cannot be imported"),
        ("not a dotted path", "cannot be imported"),
        ("tests.backends.test_provide.NOT_A_FUNCTION", "must name a callable"),
    ],
)
def test_user_id_for_is_checked_at_construction(value: str, message: str) -> None:
    from django_kyc.exceptions import KycConfigurationError

    with pytest.raises(KycConfigurationError, match=rf'\["provide"\]\["OPTIONS"\]\["USER_ID_FOR"\] {message}'):
        ProvideBackend("provide", {"TOKEN": "x", "USER_ID_FOR": value})


@override_settings()
def test_token_is_required() -> None:
    from django_kyc.exceptions import KycConfigurationError

    with pytest.raises(KycConfigurationError, match=r'\["OPTIONS"\]\["TOKEN"\]'):
        ProvideBackend("provide", {})
