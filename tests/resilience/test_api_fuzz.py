"""Schemathesis over the API's own OpenAPI document, as an applicant and as staff: no 5xx, and every
response (status code, content type, body, headers) is one the schema documents.

Requests go in-process through the WSGI application (Werkzeug's client), authenticated with a real session
cookie and, for unsafe methods, a matching CSRF cookie and header; one case in four keeps the garbage
credentials schemathesis generates instead. Half of the generated path ids are replaced by ids of rows that
exist, so the fuzzer reaches the views' bodies and not only their 404s.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.middleware.csrf import _get_new_csrf_string  # type: ignore[attr-defined]
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.checks import ignored_auth, negative_data_rejection

from django_kyc.models import AmlCheck, Applicant
from tests.support.factories import create_user, make_verification

pytestmark = [pytest.mark.resilience]

SCHEMA_URL = "/kyc/api/schema/?format=json"
EXAMPLES_PER_OPERATION = 50
MINIMUM_REQUESTS = 1000
REQUESTS: Counter[str] = Counter()
STATUSES: Counter[tuple[str, str, int]] = Counter()

schema = schemathesis.openapi.from_wsgi(SCHEMA_URL, get_wsgi_application())


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Iterator[None]:
    """Werkzeug's client fires ``request_started``/``request_finished`` (Django's test client does not), and
    ``close_old_connections`` would close the test's in-transaction connection: spurious 500s."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    cache.clear()  # throttle history
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
        cache.clear()


def is_uuid(value: object) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


class Actor:
    """A signed-in user, the rows they can reach, and the headers that authenticate their requests."""

    def __init__(self, role: str, user: User, applicant: Applicant) -> None:
        self.role = role
        client = Client()
        client.force_login(user)
        csrf = _get_new_csrf_string()
        self.cookies = {"sessionid": client.cookies["sessionid"].value, "csrftoken": csrf}
        self.csrf = csrf
        self.ids = {
            "applicant_pk": str(applicant.pk),
            "/kyc/api/applicants/{id}/": str(applicant.pk),
            "/kyc/api/verifications/{id}/": str(make_verification(applicant).pk),
            "/kyc/api/verifications/{id}/client-token/": str(make_verification(applicant).pk),
            "/kyc/api/aml-checks/{id}/": str(AmlCheck.objects.create(applicant=applicant, backend="sandbox").pk),
        }
        self.turn = 0

    def headers(self, method: str) -> dict[str, str]:
        headers: dict[str, str] = {}
        if method.upper() not in {"GET", "HEAD", "OPTIONS", "TRACE"}:
            headers["X-CSRFToken"] = self.csrf
        return headers

    def aim(self, case: Any) -> bool:
        """Sign the case in (three cases in four) and, every other case, point its path ids at rows this
        user can see. The fourth case keeps the credentials schemathesis generated for the schema's basic
        and cookie auth (garbage): those must get a documented 401/403, never a 5xx."""
        self.turn += 1
        signed_in = self.turn % 4 != 0
        if signed_in:  # generated credentials would replace the real ones
            if case.headers:
                case.headers.pop("Authorization", None)
            case.cookies = {**(case.cookies or {}), **self.cookies}
        if self.turn % 2 or not case.path_parameters:
            return signed_in
        for name, value in case.path_parameters.items():
            key = name if name == "applicant_pk" else case.path
            if key in self.ids and is_uuid(value):  # a negative case's malformed id stays malformed
                case.path_parameters[name] = self.ids[key]
        return signed_in


@pytest.fixture(params=["applicant", "staff"])
def actor(request: pytest.FixtureRequest, db: Any) -> Actor:
    if request.param == "applicant":
        user = create_user("fuzz-applicant")
        return Actor("applicant", user, Applicant.objects.create(user=user, last_name="Fuzz"))
    staff = create_user(
        "fuzz-staff",
        "django_kyc.view_applicant",
        "django_kyc.change_applicant",
        "django_kyc.view_applicant_pii",
        "django_kyc.add_amlcheck",
        staff=True,
    )
    someone = create_user("fuzz-someone")
    return Actor("staff", staff, Applicant.objects.create(user=someone, last_name="Someone"))


def excluded(case: Any, signed_in: bool) -> list[Any]:
    """Checks that do not apply to this harness or to DRF's documented leniency.

    ``ignored_auth`` replays the request with the scheme's credentials removed, but the real session cookie
    is added to every case here (the unauthenticated answers are covered by tests/api/test_permissions.py).
    ``negative_data_rejection`` expects a 4xx for unknown or malformed *query* parameters, which DRF's
    pagination ignores (a bad ``page_size`` falls back to the default) by design, and for form-encoded and
    multipart bodies, where DRF reads an empty optional field as omitted (or null); JSON bodies and paths
    are still held to it, except for a number where a string is expected: DRF's ``CharField`` takes
    ``12345`` as ``"12345"`` (a postal code sent as a number is accepted on purpose).
    """
    checks: list[Any] = [ignored_auth] if signed_in else []
    form = (case.media_type or "").startswith(("multipart/", "application/x-www-form-urlencoded"))
    numbers = isinstance(case.body, dict) and any(
        isinstance(value, int | float) and not isinstance(value, bool) for value in case.body.values()
    )
    if case.query or form or numbers:
        checks.append(negative_data_rejection)
    return checks


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_conforms_to_its_schema(case: Any, actor: Actor) -> None:
    signed_in = actor.aim(case)
    role = actor.role if signed_in else f"{actor.role}-generated-auth"
    response = case.call_and_validate(headers=actor.headers(case.method), excluded_checks=excluded(case, signed_in))
    REQUESTS[role] += 1
    STATUSES[(role, f"{case.method} {case.path}", response.status_code)] += 1


def test_enough_requests_were_generated() -> None:
    """Runs after the fuzz test above (definition order): the run really exercised the API."""
    if not REQUESTS:
        pytest.skip("the fuzz test did not run (selected out)")
    signed_in = REQUESTS["applicant"] + REQUESTS["staff"]
    assert REQUESTS["applicant"], REQUESTS
    assert REQUESTS["staff"], REQUESTS
    assert signed_in >= MINIMUM_REQUESTS, REQUESTS
    print(dict(REQUESTS))
    for key, count in sorted(STATUSES.items()):
        print(*key, count)
