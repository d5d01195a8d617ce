"""The event catalogue served next to the OpenAPI schema."""

from __future__ import annotations

from django.test import Client

from django_kyc.outbound.catalogue import CATALOGUE, EVENT_TYPES


def test_the_catalogue_lists_every_type_with_its_schema_url(client: Client) -> None:
    response = client.get("/kyc/api/events/")
    assert response.status_code == 200
    listed = response.json()["events"]
    assert [item["type"] for item in listed] == [event.name for event in CATALOGUE]
    first = listed[0]
    assert first["schema"].endswith(f"/kyc/api/events/{first['type']}.v{first['version']}.json")
    schema = client.get(first["schema"])
    assert schema.status_code == 200
    assert schema["Content-Type"] == "application/schema+json"
    assert schema.json() == EVENT_TYPES[first["type"]].json_schema()


def test_unknown_types_and_versions_are_404(client: Client) -> None:
    assert client.get("/kyc/api/events/applicant.verified.v9.json").status_code == 404
    assert client.get("/kyc/api/events/nope.v1.json").status_code == 404
    assert client.post("/kyc/api/events/").status_code == 405
