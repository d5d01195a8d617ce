"""Who may call which endpoint: a matrix over every route in ``django_kyc/api/urls.py``.

Someone else's applicant (and everything under it) is a 404, never a 403 and never data; staff with
``view_applicant`` read everything but write nothing without ``change_applicant``; AML screenings need
``add_amlcheck``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from django_kyc.api import urls as api_urls
from django_kyc.models import AmlCheck, Applicant, AuditEvent, Document, Verification
from django_kyc.services import aml, submission, transitions
from django_kyc.services.audit import Change
from django_kyc.status import VerificationStatus
from tests.support.files import make_png

AUTH_REQUIRED = {401, 403}
ROLES = ("anonymous", "stranger", "owner", "viewer", "editor", "screener", "screener_only")


@dataclass
class World:
    applicant: Applicant
    verification: Verification
    aml_check: AmlCheck
    users: dict[str, User | None] = field(default_factory=dict)

    def client(self, role: str) -> APIClient:
        client = APIClient()
        user = self.users[role]
        if user is not None:
            client.force_login(user)
        return client

    def fill(self, template: str) -> str:
        return template.format(
            applicant=self.applicant.pk, verification=self.verification.pk, aml_check=self.aml_check.pk
        )

    def snapshot(self) -> tuple[Any, ...]:
        """Everything a refused write could have changed."""
        applicant = Applicant.objects.get(pk=self.applicant.pk)
        return (
            applicant.nationality,
            applicant.country,
            Document.objects.count(),
            Verification.objects.count(),
            AmlCheck.objects.count(),
            AuditEvent.objects.count(),
            Verification.objects.get(pk=self.verification.pk).client_token,
        )


def _cancel_active(world: World) -> None:
    """A new verification, or a document upload, needs the previous verification finished."""
    transitions.transition_verification(
        world.verification.pk, VerificationStatus.CANCELLED, Change.system(reason="test")
    )


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str
    kind: str  # "read", "write" (owner or change_applicant) or "screen" (owner, or staff with add_amlcheck)
    success: int = 200
    body: Callable[[], dict[str, Any]] | None = None
    multipart: bool = False
    prepare: Callable[[World], None] | None = None

    def __str__(self) -> str:
        return f"{self.method} {self.name}"


OBJECT_ENDPOINTS = [
    Endpoint("applicant-detail", "GET", "applicants/{applicant}/", "read"),
    # personal data is editable only while nothing is in progress
    Endpoint(
        "applicant-detail",
        "PATCH",
        "applicants/{applicant}/",
        "write",
        body=lambda: {"nationality": "FR"},
        prepare=_cancel_active,
    ),
    Endpoint(
        "applicant-detail",
        "PUT",
        "applicants/{applicant}/",
        "write",
        body=lambda: {"country": "IE"},
        prepare=_cancel_active,
    ),
    Endpoint("applicant-documents", "GET", "applicants/{applicant}/documents/", "read"),
    Endpoint(
        "applicant-documents",
        "POST",
        "applicants/{applicant}/documents/",
        "write",
        success=201,
        multipart=True,
        body=lambda: {"type": "passport", "file": _png_upload()},
        prepare=_cancel_active,  # no uploads while a verification runs
    ),
    Endpoint("applicant-verifications", "GET", "applicants/{applicant}/verifications/", "read"),
    Endpoint(
        "applicant-verifications",
        "POST",
        "applicants/{applicant}/verifications/",
        "write",
        success=201,
        body=dict,
        prepare=_cancel_active,
    ),
    Endpoint("applicant-aml-checks", "GET", "applicants/{applicant}/aml-checks/", "read"),
    Endpoint("applicant-aml-checks", "POST", "applicants/{applicant}/aml-checks/", "screen", success=201, body=dict),
    Endpoint("verification-detail", "GET", "verifications/{verification}/", "read"),
    Endpoint("verification-client-token", "POST", "verifications/{verification}/client-token/", "write"),
    Endpoint("aml-check-detail", "GET", "aml-checks/{aml_check}/", "read"),
]

#: Routes about the caller's own applicant rather than one named in the URL; tested below the matrix.
COLLECTION_ENDPOINTS = {("applicant-list", "GET"), ("applicant-list", "POST"), ("applicant-me", "GET")}

#: role -> kind -> expected status ("ok" is the endpoint's success code).
EXPECTED: dict[str, dict[str, Any]] = {
    "stranger": {"read": 404, "write": 404, "screen": 404},
    "owner": {"read": "ok", "write": "ok", "screen": "ok"},
    "viewer": {"read": "ok", "write": 403, "screen": 403},
    "editor": {"read": "ok", "write": "ok", "screen": 403},
    "screener": {"read": "ok", "write": "ok", "screen": "ok"},
    # may screen, but cannot see the applicant: it does not exist for them
    "screener_only": {"read": 404, "write": 404, "screen": 404},
}


def _png_upload() -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("id.png", make_png(), content_type="image/png")


@pytest.fixture
def world(
    user: User, other_user: User, staff_viewer: User, make_user: Callable[..., User], make_applicant: Any
) -> World:
    applicant = make_applicant(user=user, last_name="Owner")
    make_applicant(user=other_user, last_name="Stranger")
    verification = submission.start_verification(applicant, Change.system())
    aml_check = aml.start_check(applicant, Change.system())
    view, change = "django_kyc.view_applicant", "django_kyc.change_applicant"
    return World(
        applicant=applicant,
        verification=verification,
        aml_check=aml_check,
        users={
            "anonymous": None,
            "stranger": other_user,
            "owner": user,
            "viewer": staff_viewer,
            "editor": make_user("editor", view, change, staff=True),
            "screener": make_user("screener", view, change, "django_kyc.add_amlcheck", staff=True),
            "screener_only": make_user("screener_only", "django_kyc.add_amlcheck", staff=True),
        },
    )


def _call(world: World, role: str, endpoint: Endpoint) -> Any:
    client = world.client(role)
    url = "/kyc/api/" + world.fill(endpoint.path)
    body = endpoint.body() if endpoint.body else None
    call = getattr(client, endpoint.method.lower())
    if endpoint.method == "GET":
        return call(url)
    return call(url, body, format="multipart" if endpoint.multipart else "json")


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", OBJECT_ENDPOINTS, ids=str)
@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(world: World, role: str, endpoint: Endpoint) -> None:
    if endpoint.prepare:
        endpoint.prepare(world)
    before = world.snapshot()
    response = _call(world, role, endpoint)

    if role == "anonymous":
        assert response.status_code in AUTH_REQUIRED, response.content
        expected_status = response.status_code
    else:
        expected = EXPECTED[role][endpoint.kind]
        expected_status = endpoint.success if expected == "ok" else expected
        assert response.status_code == expected_status, (role, str(endpoint), response.content)

    assert response["Content-Type"].startswith("application/json")
    if expected_status >= 400:
        body = response.content.decode()
        assert set(response.json()) == {"detail"}, body
        for secret in (str(world.applicant.pk), world.applicant.reference, "Owner", "X1234567"):
            assert secret not in body
        assert world.snapshot() == before, "a refused request changed something"
    elif endpoint.method != "GET":
        assert world.snapshot() != before, "a successful write changed nothing"


@pytest.mark.django_db
def test_every_route_is_in_the_matrix() -> None:
    routes = {
        (pattern.name, method.upper())
        for pattern in api_urls.urlpatterns
        for method in pattern.callback.actions  # type: ignore[attr-defined]
        if method != "head"  # DRF adds it as a mirror of GET on the first request
    }
    covered = {(e.name, e.method) for e in OBJECT_ENDPOINTS} | COLLECTION_ENDPOINTS
    assert routes == covered


# --- the caller's own applicant: list, create, me ----------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path"), [("get", "applicants/"), ("post", "applicants/"), ("get", "applicants/me/")]
)
def test_collections_need_authentication(world: World, method: str, path: str) -> None:
    response = getattr(world.client("anonymous"), method)(f"/kyc/api/{path}", {}, format="json")
    assert response.status_code in AUTH_REQUIRED
    assert set(response.json()) == {"detail"}
    assert Applicant.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "sees"),
    [
        ("owner", {"Owner"}),
        ("stranger", {"Stranger"}),
        ("viewer", {"Owner", "Stranger"}),
        ("screener_only", set()),
    ],
)
def test_applicant_list_shows_only_what_the_caller_may_see(world: World, role: str, sees: set[str]) -> None:
    names = {str(applicant.pk): applicant.last_name for applicant in Applicant.objects.all()}
    response = world.client(role).get("/kyc/api/applicants/")
    assert response.status_code == 200
    assert {names[row["id"]] for row in response.json()["results"]} == sees


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "status", "last_name"), [("owner", 200, "Owner"), ("stranger", 200, "Stranger")])
def test_me_is_always_the_callers_own(world: World, role: str, status: int, last_name: str) -> None:
    response = world.client(role).get("/kyc/api/applicants/me/")
    assert response.status_code == status
    assert response.json()["last_name"] == last_name


@pytest.mark.django_db
def test_me_without_an_applicant_is_404_even_for_staff(world: World) -> None:
    response = world.client("viewer").get("/kyc/api/applicants/me/")
    assert response.status_code == 404


@pytest.mark.django_db
def test_create_makes_the_callers_own_applicant(world: World) -> None:
    response = world.client("viewer").post("/kyc/api/applicants/", {"last_name": "Staffer"}, format="json")
    assert response.status_code == 201
    assert Applicant.objects.get(pk=response.json()["id"]).user == world.users["viewer"]


# --- least privilege inside a readable object -----------------------------------------------------------


@pytest.mark.django_db
def test_read_only_staff_do_not_get_the_hosted_flow_credentials(world: World) -> None:
    owner = world.client("owner")
    issued = owner.post(f"/kyc/api/verifications/{world.verification.pk}/client-token/").json()
    assert issued["token"]

    for role, visible in (("owner", True), ("editor", True), ("viewer", False)):
        client = world.client(role)
        detail = client.get(f"/kyc/api/verifications/{world.verification.pk}/").json()
        listed = client.get(f"/kyc/api/applicants/{world.applicant.pk}/verifications/").json()["results"][0]
        for data in (detail, listed):
            assert (data["client_token"] == issued["token"]) is visible, role
            assert (data["client_link"] == issued["link"]) is visible, role
            assert data["status"] == "pending"


@pytest.mark.django_db
def test_owner_may_screen_their_own_wallet(world: World) -> None:
    response = world.client("owner").post(
        f"/kyc/api/applicants/{world.applicant.pk}/aml-checks/",
        {"subject": "wallet", "blockchain": "ethereum", "address": "0xabc"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["subject"] == "wallet"


@pytest.mark.django_db
def test_personal_data_needs_the_pii_permission_unless_it_is_your_own(
    world: World, make_user: Callable[..., User]
) -> None:
    """``view_applicant`` shows references and statuses; who the person is needs ``view_applicant_pii``."""
    world.users["trusted"] = make_user(
        "trusted", "django_kyc.view_applicant", "django_kyc.view_applicant_pii", staff=True
    )
    world.applicant.refresh_from_db()
    applicant_url = f"/kyc/api/applicants/{world.applicant.pk}/"
    documents_url = f"{applicant_url}documents/"
    for role, visible in (("owner", True), ("trusted", True), ("viewer", False), ("editor", False)):
        client = world.client(role)
        detail = client.get(applicant_url).json()
        listed = next(row for row in client.get("/kyc/api/applicants/").json()["results"] if row["id"] == detail["id"])
        document = client.get(documents_url).json()["results"][0]
        for data in (detail, listed):
            assert (data["last_name"] == "Owner") is visible, role
            assert (data["first_name"] == "Jane") is visible, role
            assert data["reference"] == world.applicant.reference
            assert data["status"] == world.applicant.status
            assert data["nationality"] == "GB"
            if not visible:
                assert data["date_of_birth"] is None
        assert (document["number"] == "X1234567") is visible, role
        assert document["type"] == "passport"


@pytest.mark.django_db
def test_a_screened_wallet_needs_the_pii_permission_unless_it_is_your_own(
    world: World, make_user: Callable[..., User]
) -> None:
    """The admin hides the wallet and transaction a screening was about from staff without
    ``view_applicant_pii`` (``django_kyc.pii.PERSONAL_FIELDS``); the API follows the same rule."""
    from django_kyc.models import AmlCheck

    AmlCheck.objects.filter(pk=world.aml_check.pk).update(address="0xWalletOfTheOwner", tx_hash="0xTxOfTheOwner")
    world.users["trusted"] = make_user(
        "trusted", "django_kyc.view_applicant", "django_kyc.view_applicant_pii", staff=True
    )
    for role, visible in (("owner", True), ("trusted", True), ("viewer", False), ("editor", False)):
        client = world.client(role)
        detail = client.get(f"/kyc/api/aml-checks/{world.aml_check.pk}/").json()
        listed = client.get(f"/kyc/api/applicants/{world.applicant.pk}/aml-checks/").json()["results"][0]
        for data in (detail, listed):
            assert (data["address"], data["tx_hash"]) == (
                ("0xWalletOfTheOwner", "0xTxOfTheOwner") if visible else ("", "")
            ), role
            assert data["status"] == world.aml_check.status


@pytest.mark.django_db
def test_staff_without_the_pii_permission_cannot_overwrite_personal_data(world: World) -> None:
    _cancel_active(world)  # editable again
    url = f"/kyc/api/applicants/{world.applicant.pk}/"
    editor = world.client("editor")
    response = editor.patch(url, {"last_name": "Blind", "nationality": "FR"}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["last_name"]
    assert editor.patch(url, {"nationality": "fr"}, format="json").status_code == 200
    world.applicant.refresh_from_db()
    assert (world.applicant.last_name, world.applicant.nationality) == ("Owner", "FR")


@pytest.mark.django_db
@pytest.mark.parametrize("credentials", [b"\x00:\x00", b"alice\x00:pw", b"alice:p\x00w"], ids=["both", "user", "pw"])
def test_basic_auth_with_a_nul_byte_is_refused_not_a_500(credentials: bytes) -> None:
    """Found by the schemathesis run: on PostgreSQL the NUL reached ``ModelBackend``'s query (DataError)."""
    import base64

    client = APIClient(raise_request_exception=True)
    response = client.get(
        "/kyc/api/applicants/me/", HTTP_AUTHORIZATION="Basic " + base64.b64encode(credentials).decode()
    )
    assert response.status_code in {401, 403}, response.content
    assert response.json() == {"detail": "Invalid username/password."}


def test_malformed_api_paths_get_the_apis_json_404(client: Any) -> None:
    """Found by the schemathesis run: a non-UUID id fell through to the host's HTML 404 page."""
    for method in ("get", "post", "put", "patch"):
        response = getattr(client, method)("/kyc/api/applicants/null/")
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}
