"""Persona's REST API (``/api/v1``) over the shared HTTP client: JSON:API bodies, the API key as a Bearer
token, a pinned ``Persona-Version``, kebab-case keys (``Key-Inflection``), an ``Idempotency-Key`` on every
POST, Persona's ``{"errors": [...]}`` body, and one method per inquiry endpoint the backend uses. No Persona
SDK: the few calls are plain HTTP (``docs/providers/persona.md``, "API").
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from django_kyc.backends.http import ProviderHttpClient, error_message_from
from django_kyc.exceptions import PermanentProviderError, ProviderError

DEFAULT_BASE_URL = "https://api.withpersona.com/api/v1"
INQUIRIES = "/inquiries"
#: Persona's page size limit for list calls.
MAX_PAGE_SIZE = 100

#: ``{"errors": [{"title", "details", "source"?}]}``: each error's title and details, else either. Never the
#: whole object: ``source`` can point into what we sent.
persona_error_message = error_message_from("errors[*].{title}: {details}", "errors[*].title", "errors[*].details")


def resource(answer: Mapping[str, Any]) -> dict[str, Any]:
    """The primary resource of a JSON:API answer (``data``), ``{}`` when there is none."""
    data = answer.get("data")
    return data if isinstance(data, dict) else {}


class PersonaClient(ProviderHttpClient):
    """The inquiry endpoints: ids in, JSON:API documents out."""

    def post_json(self, path: str, body: Mapping[str, Any] | None, idempotency_key: str) -> dict[str, Any]:
        """A POST under ``idempotency_key``: Persona answers a repeat with the same key and body with the first
        answer (its status included) instead of doing the work again."""
        headers = {"Idempotency-Key": idempotency_key}
        answer: dict[str, Any] = self.json("POST", path, json=body if body is not None else {}, headers=headers)
        return answer

    def create_inquiry(self, attributes: Mapping[str, Any], idempotency_key: str) -> dict[str, Any]:
        """``POST /inquiries`` with ``{"data": {"attributes": …}}``."""
        return self.post_json(INQUIRIES, {"data": {"attributes": dict(attributes)}}, idempotency_key)

    def get_inquiry(self, inquiry_id: str) -> dict[str, Any]:
        """``GET /inquiries/{id}``: the whole document (``data``, ``included``)."""
        answer: dict[str, Any] = self.json("GET", f"{INQUIRIES}/{inquiry_id}")
        return answer

    def resume_inquiry(self, inquiry_id: str, idempotency_key: str) -> dict[str, Any]:
        """``POST /inquiries/{id}/resume``: ``meta.session-token`` (an ``expired`` inquiry is ``pending`` again)."""
        return self.post_json(f"{INQUIRIES}/{inquiry_id}/resume", None, idempotency_key)

    def one_time_link(self, inquiry_id: str, idempotency_key: str) -> dict[str, Any]:
        """``POST /inquiries/{id}/generate-one-time-link``: ``meta.one-time-link``."""
        return self.post_json(f"{INQUIRIES}/{inquiry_id}/generate-one-time-link", None, idempotency_key)

    def redact_inquiry(self, inquiry_id: str) -> dict[str, Any]:
        """``DELETE /inquiries/{id}``: the inquiry's personal data and its verifications' and reports' are
        deleted (the children asynchronously); irreversible. DELETE takes no idempotency key."""
        answer: dict[str, Any] = self.json("DELETE", f"{INQUIRIES}/{inquiry_id}")
        return answer

    def iter_inquiries(self, page_size: int = MAX_PAGE_SIZE, **filters: str) -> Iterator[dict[str, Any]]:
        """``GET /inquiries`` with ``filter[<name>]`` for each of ``filters`` (``reference-id``), every page
        (``page[after]`` the last id while ``links.next`` says there is more)."""
        query: list[tuple[str, str]] = [("page[size]", str(min(page_size, MAX_PAGE_SIZE)))]
        query += [(f"filter[{name.replace('_', '-')}]", value) for name, value in filters.items()]
        after = ""
        while True:
            page = self.json("GET", INQUIRIES, params=[*query, *([("page[after]", after)] if after else [])])
            items = [item for item in page.get("data") or [] if isinstance(item, dict)]
            yield from items
            links = page.get("links")
            if not (isinstance(links, dict) and links.get("next")) or not items or not items[-1].get("id"):
                return
            after = str(items[-1]["id"])


def is_not_found(exc: ProviderError) -> bool:
    return isinstance(exc, PermanentProviderError) and exc.status_code == 404
