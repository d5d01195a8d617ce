"""Access matrix over every API endpoint and every django_kyc admin view: nobody else gets the owner's data.

The routes are enumerated, not listed: the API from ``django_kyc/api/urls.py`` (each route's DRF action map gives
its methods) plus the schema and docs views, the admin from ``admin.site`` (every django_kyc ``ModelAdmin``'s
``get_urls()``, so a new custom view is covered the day it is added, plus the site's index and app pages).

The owner's applicant carries recognisable markers (name, email, date of birth, document number); for every
principal below, every response body is searched for them. ``tests/api/test_permissions.py`` holds the exact
status matrix for the API (who may read and write what); this is the wider, coarser net: every route, every
method, admin included, and "the marker never appears" rather than "the status is exactly X".
"""

from __future__ import annotations

import datetime
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib import admin as django_admin
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import URLPattern, URLResolver
from django.utils import timezone

from django_kyc.api import urls as api_urls
from django_kyc.models import (
    AmlHit,
    Applicant,
    AuditEvent,
    Delivery,
    Document,
    DocumentFile,
    Endpoint,
    ErasureRequest,
    OutboundEvent,
    ReviewDecision,
    ScreeningDismissal,
    Verification,
    WebhookEvent,
    WebhookRejection,
)
from django_kyc.models.sanctions import ListEntry, ListVersion, SanctionsList
from django_kyc.models.webhook import WebhookState
from django_kyc.outbound.signing import generate_secret
from django_kyc.sanctions.records import ListedEntry, ListedName, ParsedList
from django_kyc.sanctions.store import load_version
from django_kyc.services import aml
from django_kyc.services.audit import Change
from django_kyc.status import VerificationStatus
from tests.support.factories import make_verification

pytestmark = [pytest.mark.resilience, pytest.mark.django_db]

LAST_NAME = "Zyxwvut"
FIRST_NAME = "Qoplarnyx"
EMAIL = "zyxwvut.marker@example.test"
DOCUMENT_NUMBER = "MARKER123"
BIRTH = datetime.date(1903, 2, 17)
#: every way Django or DRF could render the date of birth
BIRTH_RENDERINGS = ("1903-02-17", "Feb. 17, 1903", "February 17, 1903", "17.02.1903", "02/17/1903", "17/02/1903")
MARKERS = (LAST_NAME, FIRST_NAME, EMAIL, DOCUMENT_NUMBER, *BIRTH_RENDERINGS)

API_PREFIX = "/kyc/api/"
ADMIN_PREFIX = "/admin/"
#: public or not, these carry no applicant data; GET only
API_EXTRA = ("/kyc/api/schema/", "/kyc/api/docs/", "/kyc/api/docs/assets/swagger-ui.css")
#: API routes that name no applicant (about the caller's own one): any status, but never the marker
COLLECTION_ROUTES = {"applicant-list", "applicant-me"}
DENIED_API = {401, 403, 404}
SAFE = {"GET", "HEAD", "OPTIONS"}
DENIED_ADMIN = {302, 403, 404}

PRINCIPALS = ("anonymous", "stranger", "staff_noperm", "staff_viewer", "staff_nopii")
#: principals who may legitimately read the owner's non-personal data (references, statuses) with a 200
NON_PII_READERS = {"staff_viewer", "staff_nopii"}


@dataclass
class Seed:
    owner: User
    applicant: Applicant
    objects: dict[type, Any]  # concrete model -> the owner's row
    users: dict[str, User | None]

    def snapshot(self) -> tuple[Any, ...]:
        """What a refused write could have changed on the owner's side."""
        applicant = Applicant.objects.get(pk=self.applicant.pk)
        return (
            applicant.first_name,
            applicant.last_name,
            applicant.nationality,
            applicant.country,
            applicant.status,
            Document.objects.filter(applicant=applicant).count(),
            Verification.objects.filter(applicant=applicant).count(),
            sorted(Verification.objects.filter(applicant=applicant).values_list("status", flat=True)),
            aml_checks(applicant),
        )


def aml_checks(applicant: Applicant) -> int:
    from django_kyc.models import AmlCheck

    return AmlCheck.objects.filter(applicant=applicant).count()


def _user(username: str, perms: list[Permission], staff: bool) -> User:
    user = User.objects.create_user(username=username, password="pw", is_staff=staff, email=f"{username}@x.test")
    user.user_permissions.set(perms)
    return User.objects.get(pk=user.pk)


@pytest.fixture
def seed(make_applicant: Callable[..., Applicant]) -> Seed:
    owner = User.objects.create_user(username="owner", password="pw", email=EMAIL)
    applicant = make_applicant(user=owner, last_name=LAST_NAME, email=EMAIL, date_of_birth=BIRTH)
    applicant.first_name = FIRST_NAME
    applicant.save()
    document = Document.objects.get(applicant=applicant)
    document.number = DOCUMENT_NUMBER
    document.save()
    verification = make_verification(applicant, VerificationStatus.REVIEW)
    check = aml.start_check(applicant, Change.system(reason="seed"))
    hit = AmlHit.objects.create(aml_check=check, entity_id="e1", caption="A. Listed Person", score=0.5)
    decision = ReviewDecision.objects.create(
        applicant=applicant, aml_hit=hit, decision="false_positive", reason_code="OTHER", rule="risk_level:high"
    )
    event = WebhookEvent.objects.create(
        backend="sandbox", event_id="evt-owner", verification=verification, state=WebhookState.FAILED
    )
    erasure = ErasureRequest.objects.create(applicant=applicant, note="asked by email")
    # about no one (counters of refused webhooks), but its admin pages belong in the matrix as well
    rejection = WebhookRejection.objects.create(
        backend="sandbox", reason="bad_signature", day=datetime.date.today(), count=1
    )
    audit = AuditEvent.objects.filter(applicant_id=applicant.pk).first() or AuditEvent.objects.first()
    # an event about the owner's applicant, and its delivery to the site's billing service
    endpoint = Endpoint.objects.create(
        name="billing", url="https://billing.example/hooks", event_types=["*"], secret=generate_secret()
    )
    outbound_event = OutboundEvent.objects.create(
        event_type="applicant.risk_changed",
        subject_type="applicant",
        subject_id=str(applicant.pk),
        data={"applicant_id": str(applicant.pk), "from_level": "low", "to_level": "high"},
        occurred_at=timezone.now(),
    )
    delivery = Delivery.objects.create(event=outbound_event, endpoint=endpoint)
    # the official lists hold no applicant's data, but their read-only admin pages belong in the matrix
    listed = load_version("un_sc", ParsedList([ListedEntry("1", "person", [ListedName("Listed Sample Person")])]))
    entry = ListEntry.objects.get(first_version=listed)
    dismissal = ScreeningDismissal.objects.create(
        applicant=applicant, backend="sandbox", entity_id="e1", applicant_digest="0" * 64, hit=hit
    )
    objects: dict[type, Any] = {
        Applicant: applicant,
        Document: document,
        DocumentFile: DocumentFile.objects.get(document=document),
        Verification: verification,
        type(check): check,
        AmlHit: hit,
        ReviewDecision: decision,
        WebhookEvent: event,
        ErasureRequest: erasure,
        AuditEvent: audit,
        WebhookRejection: rejection,
        Endpoint: endpoint,
        OutboundEvent: outbound_event,
        Delivery: delivery,
        SanctionsList: listed.sanctions_list,
        ListVersion: listed,
        ListEntry: entry,
        ScreeningDismissal: dismissal,
    }

    stranger = _user("stranger", [], staff=False)
    make_applicant(user=stranger, last_name="Otherperson")
    kyc = Permission.objects.filter(content_type__app_label="django_kyc")
    users: dict[str, User | None] = {
        "anonymous": None,
        "stranger": stranger,
        "staff_noperm": _user("staff_noperm", [], staff=True),
        "staff_viewer": _user("staff_viewer", list(kyc.filter(codename="view_applicant")), staff=True),
        # everything this app defines, except the one permission that shows personal data
        "staff_nopii": _user("staff_nopii", list(kyc.exclude(codename="view_applicant_pii")), staff=True),
    }
    return Seed(owner=owner, applicant=applicant, objects=objects, users=users)


# --- enumeration ------------------------------------------------------------------------------------------------

PARAM = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


@dataclass(frozen=True)
class Route:
    area: str  # "api" or "admin"
    name: str
    url: str
    methods: tuple[str, ...]
    model: type | None = None  # the admin's model, for "whose rows is this about"
    data: dict[str, Any] | None = None  # a form to POST (the admin actions that only read)

    def __str__(self) -> str:
        return f"{self.area}:{self.name} {self.url}"


def _fill(route: str, values: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group("name")
        if name not in values:
            raise AssertionError(f"the access matrix does not know how to fill <{name}> in {route!r}: add it")
        return values[name]

    return PARAM.sub(replace, route.lstrip("^").rstrip("$"))


def api_routes(seed: Seed) -> list[Route]:
    applicant = seed.applicant
    verification = seed.objects[Verification]
    check = next(obj for model, obj in seed.objects.items() if model.__name__ == "AmlCheck")
    routes = []
    for pattern in api_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        name = pattern.name or ""
        if name.startswith("verification"):
            pk = verification.pk
        elif name.startswith("aml-check"):
            pk = check.pk
        else:
            pk = applicant.pk
        url = API_PREFIX + _fill(str(pattern.pattern), {"pk": str(pk), "applicant_pk": str(applicant.pk)})
        actions = getattr(pattern.callback, "actions", {"get": "get"})
        routes.append(Route("api", name, url, tuple(sorted(method.upper() for method in actions))))
    routes += [Route("api", "schema-docs", url, ("GET",)) for url in API_EXTRA]
    return routes


def admin_routes(seed: Seed) -> list[Route]:
    routes = [
        Route("admin", "index", ADMIN_PREFIX, ("GET",)),
        Route("admin", "app_list", f"{ADMIN_PREFIX}django_kyc/", ("GET",)),
    ]
    registered = [(m, a) for m, a in django_admin.site._registry.items() if m._meta.app_label == "django_kyc"]
    assert registered, "no django_kyc ModelAdmin registered?"
    for model, model_admin in registered:
        row = seed.objects.get(model._meta.concrete_model or model)
        assert row is not None, f"the access matrix seeds no {model.__name__} for the owner: add one"
        values = {
            "object_id": str(row.pk),
            "file_id": str(seed.objects[DocumentFile].pk),
            "decision": "approve",
            # the case page's forms: resolve the owner's hit, confirm the proposal about it
            "hit_id": str(seed.objects[AmlHit].pk),
            "proposal_id": str(seed.objects[ReviewDecision].pk),
            "action": "confirm",
            "number": "1",
        }
        base = f"{ADMIN_PREFIX}{model._meta.app_label}/{model._meta.model_name}/"
        for pattern in model_admin.get_urls():
            assert isinstance(pattern, URLPattern | URLResolver)
            url = base + _fill(str(pattern.pattern), values)
            name = pattern.name or f"{model._meta.model_name}:{pattern.pattern}"
            routes.append(Route("admin", name, url, ("GET", "POST"), model))
    # the one admin action that only reads: the CSV export (personal data columns only with the PII permission)
    routes.append(
        Route(
            "admin",
            "applicant_export_action",
            f"{ADMIN_PREFIX}django_kyc/applicant/",
            ("POST",),
            Applicant,
            data={"action": "export_applicants", "_selected_action": [str(seed.applicant.pk)]},
        )
    )
    # the "view on site" shortcut of the owner's applicant
    from django.contrib.contenttypes.models import ContentType

    content_type = ContentType.objects.get_for_model(Applicant)
    routes.append(Route("admin", "view_on_site", f"{ADMIN_PREFIX}r/{content_type.pk}/{seed.applicant.pk}/", ("GET",)))
    return routes


# --- the matrix -------------------------------------------------------------------------------------------------


def _body(response: Any) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def _leaked(body: str) -> list[str]:
    lowered = body.lower()
    return [marker for marker in MARKERS if marker.lower() in lowered]


def _request(client: Client, method: str, route: Route) -> Any:
    url = route.url
    call = getattr(client, method.lower())
    if route.data is not None:
        return call(url, data=route.data)
    if method in SAFE:
        return call(url)
    if url.startswith(API_PREFIX) and method != "POST":  # POST as multipart: the document upload takes only that
        return call(url, data="{}", content_type="application/json")
    return call(url, data={})


def _allowed(principal: str, route: Route) -> set[int] | None:
    """Acceptable statuses, or ``None`` for "any, as long as the marker is absent"."""
    if route.area == "api":
        if route.name in COLLECTION_ROUTES or route.name == "schema-docs":
            return None
        if principal in NON_PII_READERS:
            return None  # reads are theirs (see tests/api/test_permissions.py); the marker check still applies
        return {401, 403} if principal == "anonymous" else DENIED_API
    if principal in ("anonymous", "stranger"):
        return {302}  # to the login page
    if route.name in ("index", "app_list") or principal in NON_PII_READERS:
        if principal == "staff_viewer" and route.model not in (None, Applicant):
            return DENIED_ADMIN  # view_applicant opens the applicant pages and nothing else
        return None
    return DENIED_ADMIN


@pytest.fixture
def routes(seed: Seed) -> list[Route]:
    return api_routes(seed) + admin_routes(seed)


@pytest.mark.parametrize("principal", PRINCIPALS)
def test_nobody_else_gets_the_owners_data(seed: Seed, routes: list[Route], principal: str) -> None:
    client = Client()
    user = seed.users[principal]
    if user is not None:
        client.force_login(user)
    before = seed.snapshot()
    failures: list[str] = []
    pairs = 0
    statuses: Counter[int] = Counter()
    for route in routes:
        for method in route.methods:
            # with all other permissions a POST could legitimately change things; reads are what matter there
            if method not in SAFE and principal == "staff_nopii" and route.data is None:
                continue
            pairs += 1
            response = _request(client, method, route)
            status = response.status_code
            statuses[status] += 1
            body = _body(response)
            leaked = _leaked(body)
            if leaked:
                failures.append(f"{method} {route}: {status} shows {leaked}")
            allowed = _allowed(principal, route)
            if status >= 500:
                failures.append(f"{method} {route}: {status}")
            elif allowed is not None and status not in allowed:
                failures.append(f"{method} {route}: {status}, expected one of {sorted(allowed)}")
            anonymous_admin = principal in ("anonymous", "stranger") and route.area == "admin"
            if anonymous_admin and status == 302 and "/login/" not in response["Location"]:
                failures.append(f"{method} {route}: redirected to {response['Location']}, not the login")
    assert seed.snapshot() == before, "a refused request changed the owner's data"
    print(f"{principal}: {pairs} requests, statuses {dict(sorted(statuses.items()))}")
    assert not failures, "\n".join(failures)


def test_the_matrix_covers_every_admin_url(seed: Seed, routes: list[Route]) -> None:
    """Everything ``admin.site.get_urls()`` routes to a django_kyc model is in the matrix."""
    covered = {route.name for route in routes if route.area == "admin"}
    names = set()
    for entry in django_admin.site.get_urls():
        if isinstance(entry, URLResolver) and str(entry.pattern).startswith("django_kyc/"):
            names |= {p.name for p in entry.url_patterns if isinstance(p, URLPattern) and p.name}
    assert names, "admin.site routes nothing under django_kyc/?"
    assert names <= covered, names - covered


def test_the_markers_are_visible_to_those_who_may_see_them(seed: Seed) -> None:
    """The control: the owner through the API and a superuser in the admin do see every marker, so their
    absence above means something."""
    owner = Client()
    owner.force_login(seed.owner)
    api = _body(owner.get(f"{API_PREFIX}applicants/{seed.applicant.pk}/"))
    api += _body(owner.get(f"{API_PREFIX}applicants/{seed.applicant.pk}/documents/"))
    superuser = Client()
    superuser.force_login(User.objects.create_superuser("root", "root@x.test", "pw"))
    page = _body(superuser.get(f"{ADMIN_PREFIX}django_kyc/applicant/{seed.applicant.pk}/change/"))
    page += _body(superuser.get(f"{ADMIN_PREFIX}django_kyc/document/{seed.objects[Document].pk}/change/"))
    export = superuser.post(
        f"{ADMIN_PREFIX}django_kyc/applicant/",
        {"action": "export_applicants", "_selected_action": [str(seed.applicant.pk)]},
    )
    assert export.status_code == 200, export
    assert export["Content-Type"].startswith("text/csv"), export
    assert {LAST_NAME, EMAIL} <= set(_leaked(_body(export)))
    for body in (api, page):
        found = set(_leaked(body))
        assert {LAST_NAME, FIRST_NAME, EMAIL, DOCUMENT_NUMBER} <= found, found
        assert found & set(BIRTH_RENDERINGS), found
