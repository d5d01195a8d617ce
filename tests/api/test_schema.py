"""The OpenAPI document and the self-hosted docs page."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.management.commands.spectacular import Command as SpectacularCommand
from drf_spectacular.validation import validate_schema

from django_kyc.api import urls as api_urls

METHODS = {"get", "post", "put", "patch", "delete"}


def _route_to_openapi(route: str) -> str:
    """``applicants/<uuid:pk>/`` -> ``/kyc/api/applicants/{id}/`` (drf-spectacular names ``pk`` ``id``)."""
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: "{" + ("id" if m[1] == "pk" else m[1]) + "}", route)
    return f"/kyc/api/{path}"


def _expected_operations() -> set[tuple[str, str]]:
    operations = set()
    for pattern in api_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        for method in pattern.callback.actions:  # type: ignore[attr-defined]
            if method in METHODS:
                operations.add((_route_to_openapi(str(pattern.pattern)), method))
    return operations


@pytest.fixture
def schema(client: Client) -> dict[str, Any]:
    GENERATOR_STATS.reset()
    response = client.get("/kyc/api/schema/?format=json")
    assert response.status_code == 200, response.content[:2000]
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    document: dict[str, Any] = response.json()
    return document


@pytest.mark.django_db
def test_schema_is_valid_openapi_3_without_generator_warnings(schema: dict[str, Any]) -> None:
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "django-kyc API"
    validate_schema(schema)  # raises on an invalid document
    warnings = {**GENERATOR_STATS._warn_cache, **GENERATOR_STATS._error_cache}
    assert not warnings, warnings


@pytest.mark.django_db
def test_schema_describes_exactly_this_apps_routes(schema: dict[str, Any]) -> None:
    assert all(path.startswith("/kyc/api/") for path in schema["paths"])
    documented = {(path, method) for path, item in schema["paths"].items() for method in item if method in METHODS}
    assert documented == _expected_operations()
    # neither the host's admin nor the schema view itself
    assert not any("schema" in path or "admin" in path for path in schema["paths"])


@pytest.mark.django_db
def test_schema_documents_errors_and_the_upload(schema: dict[str, Any]) -> None:
    paths = schema["paths"]
    upload = paths["/kyc/api/applicants/{applicant_pk}/documents/"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert {"201", "400", "429", "503"} <= set(upload["responses"])
    assert "storage" in upload["responses"]["503"]["description"]
    assert "409" in paths["/kyc/api/applicants/{applicant_pk}/verifications/"]["post"]["responses"]
    token = paths["/kyc/api/verifications/{id}/client-token/"]["post"]
    assert "requestBody" not in token
    assert {"200", "409"} <= set(token["responses"])
    mine = [p for p in paths["/kyc/api/applicants/"]["get"]["parameters"] if p["name"] == "mine"]
    assert mine == [
        {"in": "query", "name": "mine", "schema": {"type": "boolean"}, "description": mine[0]["description"]}
    ]
    actions = schema["components"]["schemas"]["ApplicantActions"]
    assert set(actions["properties"]) == {"update", "upload_document", "start_verification"}
    applicant = schema["components"]["schemas"]["Applicant"]
    assert "status" in applicant["properties"]
    assert "status" in applicant.get("required", []) or applicant["properties"]["status"].get("readOnly")
    review = {name: applicant["properties"][name] for name in ("next_review_at", "review_reason", "action_required")}
    assert all(field.get("readOnly") for field in review.values()), review
    assert review["next_review_at"]["format"] == "date-time"
    assert review["next_review_at"].get("nullable") is True
    assert review["action_required"]["type"] == "boolean"
    statuses = schema["components"]["schemas"]["ApplicantStatusEnum"]["enum"]
    assert "reverification_required" in statuses


@pytest.mark.django_db
def test_schema_is_served_the_same_with_the_hosts_spectacular_defaults(client: Client, settings: Any) -> None:
    """A host that set drf-spectacular up globally (the usual case) must get the same document."""
    without = client.get("/kyc/api/schema/?format=json").json()
    settings.REST_FRAMEWORK = {"DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema"}
    with_global = client.get("/kyc/api/schema/?format=json").json()
    assert with_global["paths"] == without["paths"]


ASSET_URL = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


@pytest.mark.django_db
def test_docs_page_uses_only_local_assets(client: Client) -> None:
    response = client.get("/kyc/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "/kyc/api/schema/" in html
    assert not re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", html, re.IGNORECASE), "a CDN or other host"

    assets = ASSET_URL.findall(html)
    assert len(assets) >= 3
    for url in assets:
        assert url.startswith("/kyc/api/docs/assets/"), url
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert b"".join(asset.streaming_content)  # type: ignore[attr-defined]
        expected_type = {"css": "text/css", "js": "javascript", "png": "image/png"}[url.rsplit(".", 1)[1]]
        assert expected_type in asset["Content-Type"], (url, asset["Content-Type"])


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["index.html", "../../settings.py", "..%2F__init__.py", "swagger-ui.css.map"])
def test_docs_assets_serve_only_the_known_files(client: Client, name: str) -> None:
    assert client.get(f"/kyc/api/docs/assets/{name}").status_code == 404


@pytest.mark.django_db
def test_spectacular_command_validates_the_api_without_warnings(tmp_path: Path) -> None:
    """The maintainers' own check: ``spectacular --validate --fail-on-warn`` over the API's URLs only."""
    GENERATOR_STATS.reset()
    target = tmp_path / "schema.yaml"
    # drf_spectacular is not an installed app (django-kyc does not need it there), so pass the command itself
    call_command(
        SpectacularCommand(),
        "--urlconf",
        "tests.api.schema_urls",
        "--validate",
        "--fail-on-warn",
        "--file",
        str(target),
        stderr=io.StringIO(),
    )
    assert "/kyc/api/applicants/{applicant_pk}/documents/" in target.read_text()
