"""The fake yente answers as yente does: FastAPI's 422 for malformed requests, the handler's 400 / 404 with
``{"detail": …}``, and ``/match`` honouring its filters, so a client's mistakes show in tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from django_kyc.testing.yente import ALGORITHMS, SOURCES, FakeYente

PERSON = {"schema": "Person", "properties": {"name": ["Ivan Sokolov"]}}


@pytest.fixture
def fake() -> Iterator[FakeYente]:
    with FakeYente() as server:
        yield server


def match(fake: FakeYente, body: Any, dataset: str = "default", **params: Any) -> requests.Response:
    return requests.post(f"{fake.base_url}/match/{dataset}", params=params, json=body, timeout=5)


def ids(response: requests.Response, key: str = "q") -> list[str]:
    return [result["id"] for result in response.json()["responses"][key]["results"]]


def test_the_answer_has_yentes_shape_and_echoes_the_keys(fake: FakeYente) -> None:
    response = match(
        fake, {"queries": {"q": PERSON, "other": {"schema": "Company", "properties": {"name": "Sokol Trading"}}}}
    )
    assert response.status_code == 200
    assert response.headers["x-batch-size"] == "2"
    body = response.json()
    assert set(body["responses"]) == {"q", "other"}
    assert body["limit"] == 5
    answer = body["responses"]["q"]
    assert answer["status"] == 200
    assert answer["query"] == {"id": None, **PERSON}
    first = answer["results"][0]
    assert set(first) >= {"id", "caption", "schema", "properties", "datasets", "referents", "last_change"}
    assert set(first) >= {"score", "match", "explanations"}
    assert ids(response, "other") == ["NK-fake-sokol-trading"]  # a Company query never finds a Person or Vessel


@pytest.mark.parametrize(
    ("body", "params", "status", "detail"),
    [
        ({"queries": {str(i): PERSON for i in range(101)}}, {}, 400, "Too many queries in one batch (limit: 100)"),
        ({"queries": {"q": PERSON}}, {"algorithm": "nope"}, 400, "Invalid algorithm: nope"),
        ({"queries": {}}, {}, 400, "No queries provided."),
        (
            {"queries": {"q": {"schema": "Persn", "properties": {}}}},
            {},
            400,
            "Cannot parse example entity: Unknown schema: 'Persn'",
        ),
        (
            {"queries": {"q": {"schema": "Address", "properties": {}}}},
            {},
            400,
            "Cannot parse example entity: Non-matchable schema for query: Address",
        ),
        (
            {"queries": {"q": PERSON}, "config": {"x": 1}},
            {},
            400,
            "Invalid configuration parameter: x for algorithm logic-v2",
        ),
    ],
)
def test_the_handlers_refusals(fake: FakeYente, body: Any, params: dict[str, Any], status: int, detail: str) -> None:
    response = match(fake, body, **params)
    assert (response.status_code, response.json()) == (status, {"detail": detail})


def test_an_unknown_dataset_is_404(fake: FakeYente) -> None:
    response = match(fake, {"queries": {"q": PERSON}}, dataset="nope")
    assert (response.status_code, response.json()) == (404, {"detail": "No such dataset."})


@pytest.mark.parametrize(
    ("body", "params", "loc", "kind"),
    [
        (
            {"queries": {"q": PERSON}},
            {"exclude_entity_ids": [f"e{i}" for i in range(51)]},
            ["query", "exclude_entity_ids"],
            "too_long",
        ),
        ({"queries": {"q": PERSON}}, {"limit": 501}, ["query", "limit"], "less_than_equal"),
        ({"queries": {"q": PERSON}}, {"limit": "ten"}, ["query", "limit"], "int_parsing"),
        ({"queries": {"q": PERSON}}, {"threshold": "high"}, ["query", "threshold"], "float_parsing"),
        (
            {"queries": {"q": PERSON}},
            {"changed_since": "yesterday"},
            ["query", "changed_since"],
            "string_pattern_mismatch",
        ),
        ({}, {}, ["body", "queries"], "missing"),
        ({"queries": {"q": {"properties": {}}}}, {}, ["body", "queries", "q", "schema"], "missing"),
        ({"queries": {"q": {"schema": "Person"}}}, {}, ["body", "queries", "q", "properties"], "missing"),
        ({"queries": ["q"]}, {}, ["body", "queries"], "dict_type"),
    ],
)
def test_malformed_requests_get_fastapis_422(
    fake: FakeYente, body: Any, params: dict[str, Any], loc: list[str], kind: str
) -> None:
    response = match(fake, body, **params)
    assert response.status_code == 422
    (problem,) = response.json()["detail"]
    assert (problem["loc"], problem["type"]) == (loc, kind)


def test_fifty_exclusions_are_accepted(fake: FakeYente) -> None:
    response = match(fake, {"queries": {"q": PERSON}}, exclude_entity_ids=[f"e{i}" for i in range(50)])
    assert response.status_code == 200


def test_a_body_that_is_not_json_is_422(fake: FakeYente) -> None:
    response = requests.post(f"{fake.base_url}/match/default", data=b"{", timeout=5)
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


def test_filters_threshold_and_limit(fake: FakeYente) -> None:
    body = {"queries": {"q": PERSON}}
    everything = ids(
        match(fake, {"queries": {"q": {"schema": "Thing", "properties": {"name": ["Sokol"]}}}}, threshold=0.3, limit=10)
    )
    assert "NK-fake-sokol-star" in everything
    vessels_out = ids(
        match(
            fake,
            {"queries": {"q": {"schema": "Thing", "properties": {"name": ["Sokol"]}}}},
            threshold=0.3,
            limit=10,
            exclude_schema="Vessel",
        )
    )
    assert "NK-fake-sokol-star" not in vessels_out
    assert ids(match(fake, body, topics="role.pep")) == ["Q-fake-sokolov-pep"]
    assert ids(match(fake, body, dataset="peps")) == ["Q-fake-sokolov-pep"]
    assert ids(match(fake, body, exclude_dataset="wd_peps")) == ["NK-fake-sokolov"]
    assert ids(match(fake, body, include_dataset="us_ofac_sdn")) == ["NK-fake-sokolov"]
    assert ids(match(fake, body, limit=1)) == ["NK-fake-sokolov"]
    # excluded by id or by one of its referents
    assert ids(match(fake, body, exclude_entity_ids="NK-fake-sokolov")) == ["Q-fake-sokolov-pep"]
    assert ids(match(fake, body, exclude_entity_ids="ofac-90001")) == ["Q-fake-sokolov-pep"]
    assert ids(match(fake, body, changed_since="2026-03-01")) == ["NK-fake-sokolov"]
    # the deprecated cutoff returns results under the threshold, flagged match: false
    dated = {"queries": {"q": {"schema": "Person", "properties": {"name": "Ivan Sokolov", "birthDate": "1967-03-12"}}}}
    flagged = match(fake, dated, threshold=0.9, cutoff=0.5).json()["responses"]["q"]["results"]
    assert [(result["id"], result["match"]) for result in flagged] == [
        ("NK-fake-sokolov", True),
        ("Q-fake-sokolov-pep", False),
    ]


def test_an_amended_entity_has_a_later_last_change(fake: FakeYente) -> None:
    before = fake.entity("NK-fake-sokolov")["last_change"]
    after = fake.amend("NK-fake-sokolov", birthDate=["1967"])
    assert after > before
    assert fake.entity("NK-fake-sokolov")["properties"]["birthDate"] == ["1967"]


def test_algorithms_catalog_and_health(fake: FakeYente) -> None:
    algorithms = requests.get(f"{fake.base_url}/algorithms", timeout=5).json()
    assert [item["name"] for item in algorithms["algorithms"]] == list(ALGORITHMS)
    assert (algorithms["default"], algorithms["best"]) == ("best", "logic-v2")
    fake.set_version("eu_fsf", "20261204000000-new")
    catalog = requests.get(f"{fake.base_url}/catalog", timeout=5).json()
    versions = {entry["name"]: entry["version"] for entry in catalog["datasets"]}
    assert versions == {
        **SOURCES,
        "eu_fsf": "20261204000000-new",
        **{name: versions[name] for name in ("default", "sanctions", "peps")},
    }
    assert requests.get(f"{fake.base_url}/healthz", timeout=5).json() == {"status": "ok"}
    fake.index_ready = False
    response = requests.get(f"{fake.base_url}/readyz", timeout=5)
    assert (response.status_code, response.json()) == (503, {"detail": "Index not ready."})


def test_an_api_key_when_asked_for() -> None:
    with FakeYente(api_key="k") as fake:
        assert match(fake, {"queries": {"q": PERSON}}).status_code == 401
        response = requests.post(
            f"{fake.base_url}/match/default",
            json={"queries": {"q": PERSON}},
            headers={"Authorization": "ApiKey k"},
            timeout=5,
        )
        assert response.status_code == 200
        assert requests.get(f"{fake.base_url}/healthz", timeout=5).status_code == 200
