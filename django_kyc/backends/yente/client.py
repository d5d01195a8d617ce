"""yente's HTTP API through the shared client: ``POST /match/{dataset}``, ``GET /catalog`` and
``GET /algorithms``, and yente's error bodies (``docs/providers/yente.md``, "Errors")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from django_kyc.backends.http import ProviderHttpClient, error_message_from
from django_kyc.backends.parsing import mapping

#: The header OpenSanctions' hosted API reads the key from (``Authorization: ApiKey <key>``).
AUTH_HEADER = "Authorization"


def describe_error(payload: Any) -> str:
    """yente's ``{"detail": "…"}`` (its handler's 400 / 404 / 500), or FastAPI's 422 whose ``detail`` lists
    ``{loc, msg}`` items: those become ``exclude_entity_ids: Tuple should have at most 50 items …``. The
    ``input`` FastAPI may add is never read (it could echo a person's data)."""
    detail = mapping(payload).get("detail")
    if isinstance(detail, str):
        return detail.strip()
    if isinstance(detail, list):
        parts = []
        for item in detail[:10]:
            entry = mapping(item)
            loc = [str(step) for step in entry.get("loc") or [] if str(step) not in ("query", "body")]
            message = str(entry.get("msg") or "").strip()
            if message:
                parts.append(f"{'.'.join(loc)}: {message}" if loc else message)
        return "; ".join(parts)
    return ""


yente_error_message = error_message_from(describe_error)


class YenteClient(ProviderHttpClient):
    """One method per yente endpoint the backend calls."""

    def match(
        self, dataset: str, queries: Mapping[str, Mapping[str, Any]], params: Sequence[tuple[str, str]]
    ) -> dict[str, Any]:
        """``POST /match/{dataset}`` with the queries (keyed by the caller, echoed in ``responses``). ``params``
        are pairs so list parameters repeat their name, as yente reads them."""
        answer: dict[str, Any] = self.json(
            "POST", f"/match/{quote(dataset, safe='')}", params=list(params), json={"queries": dict(queries)}
        )
        return answer

    def catalog(self) -> dict[str, Any]:
        """``GET /catalog``: the indexed datasets, each with its ``version``."""
        answer: dict[str, Any] = self.json("GET", "/catalog")
        return answer

    def algorithms(self) -> dict[str, Any]:
        """``GET /algorithms``: the algorithms and which one ``best`` stands for."""
        answer: dict[str, Any] = self.json("GET", "/algorithms")
        return answer
