"""The fake yente's HTTP API: ``POST /match/{dataset}``, ``GET /algorithms``, ``GET /catalog``, ``GET /healthz``
and ``GET /readyz``, with yente's request validation and error answers.

yente is a FastAPI application, and the fake answers where it does: query parameters and the body are
validated first (a malformed value, ``limit`` over 500, more than 50 ``exclude_entity_ids``, a query without
``schema``: FastAPI's 422 whose ``detail`` is a list of ``{type, loc, msg}``); then the handler refuses an
unknown dataset (404 "No such dataset."), an unknown algorithm (400 "Invalid algorithm: …"), a batch of more
than 100 queries (400 "Too many queries in one batch (limit: 100)") and a query it cannot parse (400 "Cannot
parse example entity: …"), each as ``{"detail": "…"}``. Unknown query parameters are ignored, as FastAPI
ignores them: every request is recorded in :attr:`FakeYenteApi.match_requests` so a test can assert on what
the client really sent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django_kyc.testing.server import FakeProviderServer, FakeRequest, FakeResponse
from django_kyc.testing.yente import entities

MAX_BATCH = 100
MAX_MATCHES = 500
MAX_EXCLUDED = 50
MATCH_PAGE = 5
SCORE_THRESHOLD = 0.70
#: yente's ``changed_since`` pattern (``YYYY-MM-DD[THH[:MM[:SS]]]``).
TS_PATTERN = r"^\d{4}-\d{2}-\d{2}(T\d{2}(:\d{2}(:\d{2})?)?)?$"
#: Algorithm configuration keys the fake accepts (any other is refused as yente refuses it).
ALGORITHM_CONFIG: Mapping[str, frozenset[str]] = {"logic-v2": frozenset({"nm_number_mismatch"})}


def invalid(kind: str, loc: list[Any], msg: str) -> dict[str, Any]:
    """One item of FastAPI's 422 ``detail`` list."""
    return {"type": kind, "loc": loc, "msg": msg}


class FakeYenteApi(FakeProviderServer):
    """The index in memory (:mod:`.entities`), served as yente serves it. ``api_key`` set: every call must
    carry ``Authorization: ApiKey <key>`` as OpenSanctions' hosted API requires (a self-hosted yente asks
    for none, which is the default here)."""

    provider = "yente"
    routes = [
        ("POST", r"/match/(?P<dataset>[^/]+)", "match"),
        ("GET", r"/algorithms", "algorithms"),
        ("GET", r"/catalog", "catalog"),
        ("GET", r"/healthz", "healthz"),
        ("GET", r"/readyz", "readyz"),
    ]

    def __init__(self, host: str = "127.0.0.1", port: int = 0, api_key: str = "") -> None:
        super().__init__(host, port)
        self.api_key = api_key
        self.entities: dict[str, dict[str, Any]] = entities.seed()
        self.versions: dict[str, str] = dict(entities.SOURCES)
        #: Every ``/match`` call as received: ``{"dataset", "params" (name → values), "body", "headers"}``.
        self.match_requests: list[dict[str, Any]] = []
        self.index_ready = True

    # --- conventions ------------------------------------------------------------------------------------
    def error(self, status: int, message: str, **extra: Any) -> FakeResponse:
        """yente's (FastAPI's) error body."""
        return FakeResponse(status, {"detail": message, **extra})

    def authenticate(self, request: FakeRequest) -> FakeResponse | None:
        if not self.api_key or request.path in ("/healthz", "/readyz"):
            return None
        if request.header("Authorization") != f"ApiKey {self.api_key}":
            return self.error(401, "A valid API key is required: send it as 'Authorization: ApiKey <key>'.")
        return None

    # --- small endpoints ----------------------------------------------------------------------------------
    def healthz(self, request: FakeRequest) -> FakeResponse:
        return FakeResponse(200, {"status": "ok"})

    def readyz(self, request: FakeRequest) -> FakeResponse:
        """503 until the index is built (``index_ready``), as yente answers before its first indexing."""
        if not self.index_ready:
            return self.error(503, "Index not ready.")
        return FakeResponse(200, {"status": "ok"})

    def catalog(self, request: FakeRequest) -> FakeResponse:
        return FakeResponse(200, entities.catalog(self.versions))

    def algorithms(self, request: FakeRequest) -> FakeResponse:
        listed = [
            {
                "name": name,
                "description": f"{name} (scored by the fake's one deterministic rule)",
                "features": {"name_match": {"description": "closest name pair", "coefficient": 1.0}},
                "docs": {"name": name},
            }
            for name in entities.ALGORITHMS
        ]
        return FakeResponse(200, {"algorithms": listed, "default": "best", "best": entities.BEST})

    # --- /match -------------------------------------------------------------------------------------------
    def match(self, request: FakeRequest) -> FakeResponse:
        body = request.json()
        self.match_requests.append(
            {"dataset": request.params["dataset"], "params": request.query, "body": body, "headers": request.headers}
        )
        params, problems = self.read_params(request.query)
        problems.extend(self.check_body(body, request.body))
        if problems:
            return FakeResponse(422, {"detail": problems})
        dataset = request.params["dataset"]
        scope = entities.COLLECTIONS.get(dataset) or ((dataset,) if dataset in self.versions else None)
        if scope is None:
            return self.error(404, "No such dataset.")
        algorithm = str(params["algorithm"]).strip().lower()
        name = entities.BEST if algorithm == "best" else algorithm
        if name not in entities.ALGORITHMS:
            return self.error(400, f"Invalid algorithm: {params['algorithm']}")
        for key in body.get("config") or {}:
            if key not in ALGORITHM_CONFIG.get(name, frozenset()):
                return self.error(400, f"Invalid configuration parameter: {key} for algorithm {name}")
        queries: dict[str, Any] = body["queries"]
        if len(queries) > MAX_BATCH:
            return self.error(400, f"Too many queries in one batch (limit: {MAX_BATCH})")
        for example in queries.values():
            schema = example["schema"]
            if schema in entities.UNMATCHABLE:
                return self.error(400, f"Cannot parse example entity: Non-matchable schema for query: {schema}")
            if schema not in entities.SCHEMATA:
                return self.error(400, f"Cannot parse example entity: Unknown schema: {schema!r}")
        if not queries:
            return self.error(400, "No queries provided.")
        responses = {key: self.match_one(example, scope, params) for key, example in queries.items()}
        return FakeResponse(
            200, {"responses": responses, "limit": params["limit"]}, {"x-batch-size": str(len(responses))}
        )

    def read_params(self, query: Mapping[str, list[str]]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The query parameters as yente's signature types them; FastAPI's 422 items for those it refuses."""
        problems: list[dict[str, Any]] = []
        params: dict[str, Any] = {"algorithm": (query.get("algorithm") or ["best"])[-1]}
        for name, kind, default in (
            ("limit", int, MATCH_PAGE),
            ("threshold", float, SCORE_THRESHOLD),
            ("cutoff", float, SCORE_THRESHOLD),
        ):
            raw: str | None = (query.get(name) or [None])[-1]  # type: ignore[list-item]
            try:
                params[name] = default if raw is None else kind(raw)
            except ValueError:
                noun = (
                    "integer, unable to parse string as an integer"
                    if kind is int
                    else "number, unable to parse string as a number"
                )
                problems.append(invalid(f"{kind.__name__}_parsing", ["query", name], f"Input should be a valid {noun}"))
                params[name] = default
        if params["limit"] > MAX_MATCHES:
            problems.append(
                invalid("less_than_equal", ["query", "limit"], f"Input should be less than or equal to {MAX_MATCHES}")
            )
        for name in ("include_dataset", "exclude_schema", "exclude_dataset", "topics", "exclude_entity_ids"):
            params[name] = tuple(query.get(name) or ())
        excluded = len(params["exclude_entity_ids"])
        if excluded > MAX_EXCLUDED:
            problems.append(
                invalid(
                    "too_long",
                    ["query", "exclude_entity_ids"],
                    f"Tuple should have at most {MAX_EXCLUDED} items after validation, not {excluded}",
                )
            )
        since: str | None = (query.get("changed_since") or [None])[-1]  # type: ignore[list-item]
        if since is not None and not re.match(TS_PATTERN, since):
            problems.append(
                invalid(
                    "string_pattern_mismatch", ["query", "changed_since"], f"String should match pattern '{TS_PATTERN}'"
                )
            )
        params["changed_since"] = since
        return params, problems

    def check_body(self, body: Any, raw: bytes) -> list[dict[str, Any]]:
        """``EntityMatchQuery``: ``queries`` (required) of ``{id?, schema, properties}``, ``weights``, ``config``."""
        if body is None and raw.strip() not in (b"", b"null"):
            return [invalid("json_invalid", ["body", 0], "JSON decode error")]
        if not isinstance(body, dict):
            return [invalid("model_attributes_type", ["body"], "Input should be a valid dictionary or object")]
        problems: list[dict[str, Any]] = []
        for name in ("weights", "config"):
            if name in body and not isinstance(body[name], dict):
                problems.append(invalid("dict_type", ["body", name], "Input should be a valid dictionary"))
        queries = body.get("queries")
        if "queries" not in body:
            return [*problems, invalid("missing", ["body", "queries"], "Field required")]
        if not isinstance(queries, dict):
            return [*problems, invalid("dict_type", ["body", "queries"], "Input should be a valid dictionary")]
        for key, example in queries.items():
            where = ["body", "queries", key]
            if not isinstance(example, dict):
                problems.append(invalid("model_attributes_type", where, "Input should be a valid dictionary or object"))
                continue
            if not isinstance(example.get("schema"), str):
                problems.append(invalid("missing", [*where, "schema"], "Field required"))
            properties = example.get("properties")
            if not isinstance(properties, dict):
                problems.append(
                    invalid(
                        "missing" if properties is None else "dict_type",
                        [*where, "properties"],
                        "Field required" if properties is None else "Input should be a valid dictionary",
                    )
                )
                continue
            for prop, values in properties.items():
                if not isinstance(values, str | list):
                    problems.append(
                        invalid("string_type", [*where, "properties", prop], "Input should be a valid string")
                    )
        return problems

    def match_one(
        self, example: Mapping[str, Any], scope: tuple[str, ...], params: Mapping[str, Any]
    ) -> dict[str, Any]:
        """One query's ``EntityMatches``: the candidates the filters leave, scored, those at or above the cutoff
        (``min(cutoff, threshold)``) best first, at most ``limit``, each ``match`` when at or above ``threshold``."""
        properties = {
            name: [values] if isinstance(values, str) else [str(value) for value in values if value not in (None, "")]
            for name, values in example["properties"].items()
        }
        query = {"schema": example["schema"], "properties": properties}
        threshold = float(params["threshold"])
        cutoff = min(float(params["cutoff"]), threshold)
        scored = []
        for entity in self.entities.values():
            if not self.admits(entity, example["schema"], scope, params):
                continue
            value, explanations = entities.score(query, entity)
            if value >= cutoff:
                scored.append((value, entity, explanations))
        scored.sort(key=lambda item: (-item[0], item[1]["id"]))
        results = [
            {**entity, "score": value, "explanations": explanations, "match": value >= threshold}
            for value, entity, explanations in scored[: max(0, int(params["limit"]))]
        ]
        return {
            "status": 200,
            "results": results,
            "total": {"value": len(scored), "relation": "eq"},
            "query": {"id": example.get("id"), **query},
        }

    def admits(self, entity: Mapping[str, Any], schema: str, scope: tuple[str, ...], params: Mapping[str, Any]) -> bool:
        """The filters of a ``/match`` call, as yente's search query applies them."""
        if entity["schema"] not in entities.SCHEMATA[schema] or entity["schema"] in params["exclude_schema"]:
            return False
        if not entities.in_any(entity, scope):
            return False
        if params["include_dataset"] and not entities.in_any(entity, params["include_dataset"]):
            return False
        if params["exclude_dataset"] and entities.in_any(entity, params["exclude_dataset"]):
            return False
        if params["topics"] and not entities.topics_of(entity) & set(params["topics"]):
            return False
        if params["changed_since"] and not str(entity.get("last_change") or "") > params["changed_since"]:
            return False
        return not entities.ids_of(entity) & set(params["exclude_entity_ids"])
