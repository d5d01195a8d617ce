"""What API users read about each endpoint: the browsable API's description and the OpenAPI descriptions.

Both come from the view docstrings (and ``extend_schema(description=...)``), which are written for API users:
plain sentences. reStructuredText markup (double backticks, ``:func:`` roles) would be shown raw, since
neither DRF without the markdown package nor Swagger UI renders it.
"""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern

from django_kyc.api import urls as api_urls
from django_kyc.models import AmlCheck, Applicant
from tests.support.factories import create_user, make_verification

#: reST that API users would see raw: ``literal``, :role:`target`, `link`_ and directives.
REST_MARKUP = re.compile(r"``|:[a-z]+:`|`_|^\s*\.\. ", re.MULTILINE)
DESCRIPTION = re.compile(r'<div class="pull-left">(.*?)</div>', re.DOTALL)


ROUTES = [str(pattern.pattern) for pattern in api_urls.urlpatterns if isinstance(pattern, URLPattern)]


def test_the_pattern_finds_rest_markup() -> None:
    for text in ("staff with ``view_applicant``", "see :func:`docs_asset`", ".. note:: x", "a `link`_"):
        assert REST_MARKUP.search(text), text
    assert not REST_MARKUP.search("Staff with the view_applicant permission see every applicant (`mine=true`).")


@pytest.mark.django_db
@pytest.mark.parametrize("route", ROUTES)
def test_browsable_api_descriptions_are_plain_text(client: Client, route: str) -> None:
    owner = create_user("owner")
    applicant = Applicant.objects.create(user=owner, first_name="Ada", last_name="Lovelace")
    ids = {
        "pk": make_verification(applicant).pk if route.startswith("verifications/") else applicant.pk,
        "applicant_pk": applicant.pk,
    }
    if route.startswith("aml-checks/"):
        ids["pk"] = AmlCheck.objects.create(applicant=applicant, backend="sandbox").pk
    url = "/kyc/api/" + re.sub(r"<uuid:(\w+)>", lambda m: str(ids[m[1]]), route)
    client.force_login(owner)
    response = client.get(url, HTTP_ACCEPT="text/html")
    page = response.content.decode()
    assert "text/html" in response["Content-Type"], (url, response.status_code)
    found = DESCRIPTION.search(page)
    assert found, url
    description = html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()
    assert description, f"{url} has no description"
    assert not REST_MARKUP.search(description), (url, description)


@pytest.mark.django_db
def test_openapi_descriptions_are_plain_text(client: Client) -> None:
    schema: dict[str, Any] = client.get("/kyc/api/schema/?format=json").json()
    texts = [("info", schema["info"]["description"])]
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            assert operation.get("description"), f"{method.upper()} {path} has no description"
            texts.append((f"{method.upper()} {path}", operation["description"]))
            texts += [
                (f"{method.upper()} {path} ?{p['name']}", p.get("description", ""))
                for p in operation.get("parameters", [])
            ]
    for name, component in schema["components"]["schemas"].items():
        texts.append((name, component.get("description", "")))
        texts += [
            (f"{name}.{field}", spec.get("description", "")) for field, spec in component.get("properties", {}).items()
        ]
    marked = [(where, text) for where, text in texts if REST_MARKUP.search(text)]
    assert not marked, marked
