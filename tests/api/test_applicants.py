"""The applicant resource: one per user, personal data editable only before or between checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db.models import QuerySet
from rest_framework.test import APIClient

from django_kyc.models import Applicant, AuditEvent
from django_kyc.services import submission, transitions
from django_kyc.services.audit import Change
from django_kyc.status import ApplicantStatus

URL = "/kyc/api/applicants/"


@pytest.fixture
def api(user: User, client_for: Callable[[User | None], APIClient]) -> APIClient:
    return client_for(user)


@pytest.mark.django_db
def test_create_returns_the_new_applicant_and_audits_it(api: APIClient, user: User) -> None:
    response = api.post(URL, {"first_name": "Jane", "last_name": "Doe", "email": "jane@example.com"}, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    applicant = Applicant.objects.get(pk=data["id"])
    assert applicant.user == user
    assert data["status"] == ApplicantStatus.UNVERIFIED
    assert data["reference"] == applicant.reference
    assert AuditEvent.objects.filter(object_id=str(applicant.pk), action="created", actor=user).exists()


@pytest.mark.django_db
def test_second_create_is_a_conflict_with_a_message(api: APIClient) -> None:
    assert api.post(URL, {"last_name": "Doe"}, format="json").status_code == 201
    response = api.post(URL, {"last_name": "Again"}, format="json")
    assert response.status_code == 409
    assert "already have an applicant" in response.json()["detail"]
    assert Applicant.objects.count() == 1
    assert Applicant.objects.get().last_name == "Doe"


@pytest.mark.django_db
def test_read_only_fields_are_ignored_on_create(api: APIClient, other_user: User) -> None:
    response = api.post(
        URL,
        {
            "last_name": "Doe",
            "status": "verified",
            "risk_level": "low",
            "verified_at": "2024-01-01T00:00:00Z",
            "reference": "kyc_chosen",
            "external_id": "mine",
            "id": "00000000-0000-0000-0000-000000000001",
            "user": other_user.pk,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    applicant = Applicant.objects.get(pk=response.json()["id"])
    assert applicant.status == ApplicantStatus.UNVERIFIED
    assert applicant.verified_at is None
    assert applicant.reference != "kyc_chosen"
    assert applicant.external_id == ""
    assert str(applicant.pk) != "00000000-0000-0000-0000-000000000001"
    assert applicant.user_id != other_user.pk


@pytest.mark.django_db
@pytest.mark.parametrize(("given", "stored"), [("gb", "GB"), ("De", "DE"), ("FR", "FR"), (" gb ", "GB"), ("", "")])
def test_country_codes_are_upper_cased(api: APIClient, given: str, stored: str) -> None:
    response = api.post(URL, {"last_name": "Doe", "country": given, "nationality": given}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["country"] == stored
    applicant = Applicant.objects.get()
    assert (applicant.country, applicant.nationality) == (stored, stored)


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["country", "nationality"])
@pytest.mark.parametrize("value", ["GBR", "G", "1A", "g!", "ÄB"])
def test_bad_country_codes_are_field_errors(api: APIClient, field: str, value: str) -> None:
    response = api.post(URL, {"last_name": "Doe", field: value}, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert list(errors) == [field]
    assert errors[field]
    assert all(isinstance(message, str) for message in errors[field])
    assert not Applicant.objects.exists()


@pytest.mark.django_db
def test_me_returns_the_callers_applicant(api: APIClient, user: User, make_applicant: Any) -> None:
    assert api.get(f"{URL}me/").status_code == 404
    applicant = make_applicant(user=user)
    response = api.get(f"{URL}me/")
    assert response.status_code == 200
    assert response.json()["id"] == str(applicant.pk)


@pytest.mark.django_db
def test_mine_asks_for_the_callers_applicant_without_an_error_response(
    api: APIClient, user: User, make_applicant: Any, client_for: Callable[[User | None], APIClient], staff_viewer: User
) -> None:
    assert api.get(URL, {"mine": "true"}).json()["results"] == []  # a 200 either way: no 404 in the console
    applicant = make_applicant(user=user)
    make_applicant(user=staff_viewer, last_name="Staffer")
    assert [row["id"] for row in api.get(URL, {"mine": "true"}).json()["results"]] == [str(applicant.pk)]
    staff = client_for(staff_viewer)
    assert len(staff.get(URL).json()["results"]) == 2  # staff with view_applicant list everyone...
    assert [row["last_name"] for row in staff.get(URL, {"mine": "1"}).json()["results"]] == [
        "Staffer"
    ]  # ...or their own


@pytest.mark.django_db
def test_actions_follow_the_applicant_through_a_verification(
    api: APIClient, user: User, make_applicant: Any, client_for: Callable[[User | None], APIClient], staff_viewer: User
) -> None:
    applicant = make_applicant(user=user)
    url = f"{URL}{applicant.pk}/"
    assert api.get(url).json()["actions"] == {"update": True, "upload_document": True, "start_verification": True}
    verification = submission.start_verification(applicant, Change.system())
    running = {"update": False, "upload_document": False, "start_verification": False}
    assert api.get(url).json()["actions"] == running
    upload = api.post(f"{url}documents/", {"type": "passport"}, format="multipart")
    assert upload.status_code == 409
    assert upload.json() == {"detail": "Documents cannot be uploaded while the applicant is in progress."}
    transitions.transition_verification(verification.pk, "resubmission_requested", Change.system(reason="test"))
    assert api.get(url).json()["actions"] == {"update": True, "upload_document": True, "start_verification": True}
    # staff who may only read act for no one
    assert client_for(staff_viewer).get(url).json()["actions"] == {
        "update": False,
        "upload_document": False,
        "start_verification": False,
    }


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["patch", "put"])
def test_update_while_unverified(api: APIClient, user: User, make_applicant: Any, method: str) -> None:
    applicant = make_applicant(user=user)
    response = getattr(api, method)(
        f"{URL}{applicant.pk}/", {"first_name": "Janet", "country": "ie", "status": "verified"}, format="json"
    )
    assert response.status_code == 200, response.content
    applicant.refresh_from_db()
    assert (applicant.first_name, applicant.country) == ("Janet", "IE")
    assert applicant.status == ApplicantStatus.UNVERIFIED  # the client cannot set it


def _put_in_status(applicant: Applicant, status: str, capture: Any) -> None:
    """Reach ``status`` the way production does: through the sandbox and the transition service."""
    if status == ApplicantStatus.UNVERIFIED:
        return
    if status == ApplicantStatus.IN_PROGRESS:
        submission.start_verification(applicant, Change.system())  # on_commit never runs: stays pending
        return
    with capture(execute=True):
        submission.start_verification(applicant, Change.system())


SANDBOX_NAME: dict[str, str] = {
    ApplicantStatus.UNVERIFIED: "Smith",
    ApplicantStatus.IN_PROGRESS: "Smith",
    ApplicantStatus.ACTION_REQUIRED: "Resubmit",
    ApplicantStatus.REVIEW: "Review",
    ApplicantStatus.VERIFIED: "Smith",
    ApplicantStatus.REJECTED: "Decline",
}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "editable"),
    [
        (ApplicantStatus.UNVERIFIED, True),
        (ApplicantStatus.ACTION_REQUIRED, True),
        (ApplicantStatus.IN_PROGRESS, False),
        (ApplicantStatus.REVIEW, False),
        (ApplicantStatus.VERIFIED, False),
        (ApplicantStatus.REJECTED, False),
    ],
)
def test_personal_data_is_editable_only_while_unverified_or_action_required(
    api: APIClient,
    user: User,
    make_applicant: Any,
    django_capture_on_commit_callbacks: Any,
    status: str,
    editable: bool,
) -> None:
    applicant = make_applicant(user=user, last_name=SANDBOX_NAME[status])
    _put_in_status(applicant, status, django_capture_on_commit_callbacks)
    applicant.refresh_from_db()
    assert applicant.status == status

    response = api.patch(f"{URL}{applicant.pk}/", {"city": "Leeds"}, format="json")
    applicant.refresh_from_db()
    if editable:
        assert response.status_code == 200, response.content
        assert applicant.city == "Leeds"
    else:
        assert response.status_code == 400
        assert "cannot be changed" in response.json()["non_field_errors"][0]
        assert applicant.city == ""
    assert applicant.status == status


@pytest.mark.django_db
def test_suspended_applicant_cannot_be_edited(api: APIClient, user: User, reviewer: User, make_applicant: Any) -> None:
    applicant = make_applicant(user=user)
    transitions.set_applicant_status(
        applicant.pk, ApplicantStatus.SUSPENDED, Change.by_user(reviewer, "admin", reason_code="SUSPECTED_FRAUD")
    )
    response = api.patch(f"{URL}{applicant.pk}/", {"city": "Leeds"}, format="json")
    assert response.status_code == 400
    assert "Suspended" in response.json()["non_field_errors"][0]


@pytest.mark.django_db
def test_status_cannot_be_set_by_patch(api: APIClient, user: User, make_applicant: Any) -> None:
    applicant = make_applicant(user=user)
    response = api.patch(f"{URL}{applicant.pk}/", {"status": "verified", "risk_level": "low"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == ApplicantStatus.UNVERIFIED
    applicant.refresh_from_db()
    assert applicant.status == ApplicantStatus.UNVERIFIED


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["patch", "put"])
def test_risk_level_cannot_be_set_through_the_api_even_by_staff_who_may_change_applicants(
    make_applicant: Any, client_for: Callable[[User | None], APIClient], method: str
) -> None:
    """The four-eyes rule reads the risk level: only the audited risk service writes it, never the API."""
    from tests.support.factories import create_user

    editor = create_user(
        "editor", "django_kyc.view_applicant", "django_kyc.change_applicant", "django_kyc.review_applicant", staff=True
    )
    applicant = make_applicant(risk_level="high")
    body = {"country": "FR", "risk_level": "low"}
    response = getattr(client_for(editor), method)(f"{URL}{applicant.pk}/", body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["risk_level"] == "high"
    applicant.refresh_from_db()
    assert (applicant.country, applicant.risk_level) == ("FR", "high")  # the write went through, but not that
    assert not AuditEvent.objects.filter(applicant=applicant, action="risk_changed").exists()


@pytest.mark.django_db
def test_risk_level_cannot_be_chosen_on_creation(api: APIClient) -> None:
    response = api.post(URL, {"last_name": "Doe", "risk_level": "prohibited"}, format="json")
    assert response.status_code == 201, response.content
    assert Applicant.objects.get(pk=response.json()["id"]).risk_level == "low"


@pytest.mark.django_db
def test_malformed_json_is_a_400_not_a_500(api: APIClient) -> None:
    response = api.generic("POST", URL, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert "detail" in response.json()


@pytest.mark.django_db
def test_create_racing_another_request_is_a_conflict_not_a_500(
    api: APIClient, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two first requests at once both pass the "already have one?" check; the database decides."""
    Applicant.objects.create(user=user, last_name="Fast")  # committed by the other request...
    original = QuerySet.exists
    calls = []

    def exists_before_the_other_commit(self: QuerySet[Any]) -> bool:
        calls.append(self.model)
        return False if len(calls) == 1 else original(self)  # ...just after this one looked

    monkeypatch.setattr(QuerySet, "exists", exists_before_the_other_commit)
    response = api.post(URL, {"last_name": "Slow"}, format="json")
    assert calls[0] is Applicant
    assert response.status_code == 409, response.content
    assert "already have an applicant" in response.json()["detail"]
    assert list(Applicant.objects.values_list("last_name", flat=True)) == ["Fast"]
    assert not AuditEvent.objects.filter(action="created").exists()
