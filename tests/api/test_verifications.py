"""Starting verifications, the hosted-flow client token and AML screenings, with the sandbox provider."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.models import User
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from django_kyc.api import policies
from django_kyc.backends.sandbox import SandboxBackend
from django_kyc.exceptions import PermanentProviderError, TransientProviderError
from django_kyc.models import AmlCheck, Applicant, Verification
from django_kyc.status import AmlStatus, ApplicantStatus, DocumentStatus, VerificationStatus

KYC: dict[str, Any] = settings.DJANGO_KYC


class NoAmlSandbox(SandboxBackend):
    """A provider without screening, to see the API refuse it cleanly."""

    capabilities = frozenset({"document_upload", "hosted_flow"})


class NamesOnlySandbox(SandboxBackend):
    """A provider that cannot verify a person without a last name, as some refuse to."""

    def check_verification_subject(self, applicant: Applicant) -> None:
        if not applicant.last_name:
            raise PermanentProviderError("A last name is required.", provider="names-only")


@pytest.fixture
def api(user: User, client_for: Callable[[User | None], APIClient]) -> APIClient:
    return client_for(user)


@pytest.fixture
def applicant(user: User, make_applicant: Callable[..., Applicant]) -> Applicant:
    return make_applicant(user=user)


def start(api: APIClient, applicant: Applicant, **data: Any) -> Any:
    return api.post(f"/kyc/api/applicants/{applicant.pk}/verifications/", data, format="json")


@pytest.mark.django_db
def test_start_queues_the_submission_which_runs_on_commit(
    api: APIClient, applicant: Applicant, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = start(api, applicant)
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["status"] == VerificationStatus.PENDING  # the answer is sent before the task runs
    assert data["backend"] == "sandbox"
    assert data["applicant"] == str(applicant.pk)
    assert callbacks, "the submission must be enqueued on commit, not inside the request transaction"

    verification = Verification.objects.get(pk=data["id"])
    assert verification.status == VerificationStatus.APPROVED, verification.last_error
    assert verification.submitted_at is not None
    assert verification.provider_verification_id.startswith("sbx_ver_")
    assert verification.attempts == 1
    assert set(applicant.documents.values_list("status", flat=True)) == {DocumentStatus.ACCEPTED}
    applicant.refresh_from_db()
    assert applicant.status == ApplicantStatus.VERIFIED

    detail = api.get(f"/kyc/api/verifications/{verification.pk}/").json()
    assert detail["status"] == VerificationStatus.APPROVED
    assert detail["decided_at"] is not None


@pytest.mark.django_db
def test_nothing_is_submitted_if_the_request_transaction_is_not_committed(api: APIClient, applicant: Applicant) -> None:
    response = start(api, applicant)
    assert response.status_code == 201
    verification = Verification.objects.get(pk=response.json()["id"])
    assert verification.status == VerificationStatus.PENDING
    assert verification.attempts == 0


@pytest.mark.django_db
def test_second_start_while_active_is_a_conflict(api: APIClient, applicant: Applicant) -> None:
    assert start(api, applicant).status_code == 201
    response = start(api, applicant)
    assert response.status_code == 409
    assert "in progress" in response.json()["detail"]
    assert applicant.verifications.count() == 1


@pytest.mark.django_db
def test_a_new_start_after_a_decline_is_allowed(
    api: APIClient, applicant: Applicant, django_capture_on_commit_callbacks: Any
) -> None:
    Applicant.objects.filter(pk=applicant.pk).update(last_name="Declineson")
    with django_capture_on_commit_callbacks(execute=True):
        assert start(api, applicant).status_code == 201
    applicant.refresh_from_db()
    assert applicant.status == "rejected"
    assert api.get(f"/kyc/api/applicants/{applicant.pk}/").json()["actions"]["start_verification"] is True
    with django_capture_on_commit_callbacks(execute=True):
        assert start(api, applicant).status_code == 201
    assert list(applicant.verifications.values_list("status", flat=True)) == ["declined", "declined"]


@pytest.mark.django_db
def test_after_approval_the_applicant_starts_nothing_more(
    api: APIClient, applicant: Applicant, django_capture_on_commit_callbacks: Any
) -> None:
    """A verified applicant is re-verified when the site decides (services.submission), not from the API."""
    with django_capture_on_commit_callbacks(execute=True):
        assert start(api, applicant).status_code == 201
    actions = api.get(f"/kyc/api/applicants/{applicant.pk}/").json()["actions"]
    assert actions == {"update": False, "upload_document": False, "start_verification": False}
    response = start(api, applicant)
    assert response.status_code == 409
    assert response.json() == {"detail": "A verification cannot be started while the applicant is verified."}
    assert list(applicant.verifications.values_list("status", flat=True)) == ["approved"]


@pytest.mark.django_db
@pytest.mark.parametrize("alias", ["nope", "", "SANDBOX", "../sandbox"])
def test_unknown_backend_alias_is_a_field_error(api: APIClient, applicant: Applicant, alias: str) -> None:
    response = start(api, applicant, backend=alias)
    assert response.status_code == 400
    assert list(response.json()) == ["backend"]
    assert not applicant.verifications.exists()


@pytest.mark.django_db
def test_client_status_and_read_only_fields_are_ignored(api: APIClient, applicant: Applicant) -> None:
    response = start(api, applicant, status="approved", attempts=99, client_token="forged")
    assert response.status_code == 201
    verification = Verification.objects.get(pk=response.json()["id"])
    assert (verification.status, verification.attempts, verification.client_token) == ("pending", 0, "")


# --- hosted flow: the client token ----------------------------------------------------------------------


@pytest.fixture
def hosted(api: APIClient, applicant: Applicant, django_capture_on_commit_callbacks: Any) -> Verification:
    with django_capture_on_commit_callbacks(execute=True):
        response = start(api, applicant, backend="hosted")
    assert response.status_code == 201, response.content
    verification = Verification.objects.get(pk=response.json()["id"])
    assert verification.backend == "hosted"
    assert verification.status == VerificationStatus.AWAITING_USER, verification.last_error
    return verification


def token_url(verification: Verification) -> str:
    return f"/kyc/api/verifications/{verification.pk}/client-token/"


@pytest.mark.django_db
def test_client_token_returns_the_current_link_token_and_expiry(api: APIClient, hosted: Verification) -> None:
    response = api.post(token_url(hosted))
    assert response.status_code == 200, response.content
    data = response.json()
    assert set(data) == {"token", "link", "expires_at"}
    assert data["token"] == hosted.client_token
    assert data["link"] == hosted.client_link
    assert data["link"].startswith("/kyc/sandbox/capture/")
    assert datetime.fromisoformat(data["expires_at"]) == hosted.client_token_expires_at
    assert hosted.client_token_expires_at is not None
    assert hosted.client_token_expires_at > timezone.now()
    # the link really opens the sandbox's hosted page
    assert APIClient().get(data["link"]).status_code == 200


@pytest.mark.django_db
def test_client_token_is_reissued_after_expiry(api: APIClient, hosted: Verification) -> None:
    first = api.post(token_url(hosted)).json()
    assert api.post(token_url(hosted)).json() == first  # still valid: the same one

    later = timezone.now() + timedelta(hours=2)
    with time_machine.travel(later, tick=False):
        second = api.post(token_url(hosted)).json()
        assert second["token"] != first["token"]
        assert datetime.fromisoformat(second["expires_at"]) > later
    hosted.refresh_from_db()
    assert hosted.client_token == second["token"]
    assert hosted.status == VerificationStatus.AWAITING_USER


@pytest.mark.django_db
def test_client_token_on_a_finished_verification_is_a_conflict(
    api: APIClient, applicant: Applicant, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        verification_id = start(api, applicant).json()["id"]
    assert Verification.objects.get(pk=verification_id).is_terminal
    response = api.post(f"/kyc/api/verifications/{verification_id}/client-token/")
    assert response.status_code == 409
    assert "finished" in response.json()["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("error", "status"),
    [
        (TransientProviderError("timeout", provider="sandbox"), 503),
        (PermanentProviderError("applicant unknown", provider="sandbox", status_code=404), 409),
    ],
)
def test_provider_failure_while_issuing_a_token_is_a_json_error(
    api: APIClient, applicant: Applicant, monkeypatch: pytest.MonkeyPatch, error: Exception, status: int
) -> None:
    verification_id = start(api, applicant).json()["id"]

    def refuse(self: SandboxBackend, verification: Verification) -> Any:
        raise error

    monkeypatch.setattr(SandboxBackend, "issue_client_token", refuse)
    response = api.post(f"/kyc/api/verifications/{verification_id}/client-token/")
    assert response.status_code == status
    assert set(response.json()) == {"detail"}


# --- AML screening ----------------------------------------------------------------------------------------


@pytest.fixture
def screener(make_user: Callable[..., User]) -> User:
    return make_user(
        "screener",
        "django_kyc.view_applicant",
        "django_kyc.change_applicant",
        "django_kyc.add_amlcheck",
        staff=True,
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("last_name", "status", "hits"),
    [
        ("Pepper", AmlStatus.POTENTIAL_MATCH, ["sbx-pep-1"]),
        ("Sanctionson-Pepys", AmlStatus.POTENTIAL_MATCH, ["sbx-sanction-1", "sbx-pep-1"]),
        ("Smith", AmlStatus.CLEAR, []),
    ],
)
def test_aml_check_flow(
    screener: User,
    client_for: Callable[[User | None], APIClient],
    make_applicant: Callable[..., Applicant],
    other_user: User,
    django_capture_on_commit_callbacks: Any,
    last_name: str,
    status: str,
    hits: list[str],
) -> None:
    applicant = make_applicant(user=other_user, last_name=last_name)
    api = client_for(screener)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/kyc/api/applicants/{applicant.pk}/aml-checks/", {}, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["status"] == AmlStatus.PENDING
    assert created["backend"] == "sandbox"

    check = AmlCheck.objects.get(pk=created["id"])
    assert check.status == status
    assert check.screened_at is not None

    detail = api.get(f"/kyc/api/aml-checks/{check.pk}/").json()
    assert detail["status"] == status
    assert [hit["entity_id"] for hit in detail["hits"]] == hits  # strongest first
    if hits:
        assert detail["hits"][0]["status"] == "open"
        assert detail["hits"][0]["score"] > 0.9
    listed = api.get(f"/kyc/api/applicants/{applicant.pk}/aml-checks/").json()["results"]
    assert [row["id"] for row in listed] == [str(check.pk)]
    # the applicant can read their own screening
    own = client_for(other_user).get(f"/kyc/api/aml-checks/{check.pk}/")
    assert own.status_code == 200


@pytest.mark.django_db
def test_aml_check_with_an_unknown_backend_is_a_field_error(
    screener: User, client_for: Callable[[User | None], APIClient], applicant: Applicant
) -> None:
    response = client_for(screener).post(
        f"/kyc/api/applicants/{applicant.pk}/aml-checks/", {"backend": "nope"}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["backend"]


@pytest.mark.django_db
def test_aml_check_with_a_backend_that_cannot_screen_is_a_400(
    screener: User, client_for: Callable[[User | None], APIClient], applicant: Applicant
) -> None:
    backends = {
        **KYC["BACKENDS"],
        "noaml": {"CLASS": f"{__name__}.NoAmlSandbox", "OPTIONS": {}},
    }
    with override_settings(DJANGO_KYC={**KYC, "BACKENDS": backends}):
        response = client_for(screener).post(
            f"/kyc/api/applicants/{applicant.pk}/aml-checks/", {"backend": "noaml"}, format="json"
        )
    assert response.status_code == 400
    assert "does not support AML screening" in response.json()["detail"]
    assert not AmlCheck.objects.exists()


@pytest.mark.django_db
def test_aml_check_type_is_validated(
    screener: User, client_for: Callable[[User | None], APIClient], applicant: Applicant
) -> None:
    url = f"/kyc/api/applicants/{applicant.pk}/aml-checks/"
    api = client_for(screener)
    assert api.post(url, {"check_type": "weekly"}, format="json").status_code == 400
    response = api.post(url, {"check_type": "ongoing", "status": "clear"}, format="json")
    assert response.status_code == 201
    assert (response.json()["check_type"], response.json()["status"]) == ("ongoing", "pending")


@pytest.mark.django_db
def test_a_misconfigured_backend_is_a_503_without_internals(
    api: APIClient, applicant: Applicant, monkeypatch: pytest.MonkeyPatch
) -> None:
    logged: list[str] = []
    monkeypatch.setattr(policies.logger, "error", lambda message, *args, **kwargs: logged.append(message % args))
    backends = {**KYC["BACKENDS"], "broken": {"CLASS": "secret_vendor.client.Backend"}}
    selectable = [*KYC["USER_SELECTABLE_BACKENDS"], "broken"]
    with override_settings(DJANGO_KYC={**KYC, "BACKENDS": backends, "USER_SELECTABLE_BACKENDS": selectable}):
        response = start(api, applicant, backend="broken")
    assert response.status_code == 503
    assert set(response.json()) == {"detail"}
    assert "secret_vendor" not in response.content.decode()
    assert not applicant.verifications.exists()
    assert any("secret_vendor" in message for message in logged)  # the operator gets the details


@pytest.mark.django_db
def test_a_subject_the_provider_would_refuse_is_a_400_before_anything_is_stored(
    api: APIClient, make_applicant: Callable[..., Applicant], user: User
) -> None:
    backends = {**KYC["BACKENDS"], "strict": {"CLASS": f"{__name__}.NamesOnlySandbox"}}
    selectable = [*KYC["USER_SELECTABLE_BACKENDS"], "strict"]
    nameless = make_applicant(user=user, last_name="")
    with override_settings(DJANGO_KYC={**KYC, "BACKENDS": backends, "USER_SELECTABLE_BACKENDS": selectable}):
        response = start(api, nameless, backend="strict")
    assert response.status_code == 400
    assert response.json() == {"detail": ["A last name is required."]}
    assert not nameless.verifications.exists()


def test_applicants_choose_only_among_the_selectable_backends(api: APIClient, applicant: Applicant) -> None:
    """Which provider verifies someone is the site's decision (a sandbox alias must not be a way in)."""
    with override_settings(DJANGO_KYC={**KYC, "USER_SELECTABLE_BACKENDS": None}):
        refused = start(api, applicant, backend="hosted")
    assert refused.status_code == 400
    assert "cannot be chosen" in str(refused.json())
    assert not applicant.verifications.exists()


def test_applicants_choose_aml_backends_by_the_same_rule(api: APIClient, applicant: Applicant) -> None:
    """The AML endpoint uses the same backend-choice rule as verifications (one validator for both)."""
    with override_settings(DJANGO_KYC={**KYC, "USER_SELECTABLE_BACKENDS": None}):
        refused = api.post(f"/kyc/api/applicants/{applicant.pk}/aml-checks/", {"backend": "hosted"}, format="json")
    assert refused.status_code == 400
    assert "cannot be chosen" in str(refused.json())
