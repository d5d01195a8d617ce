"""The plain values backends take and return: frozen dataclasses, never model instances.

A backend turns a provider's answers into these (:class:`Submission`, :class:`ProviderState`,
:class:`ProviderEvent`, :class:`AmlResult` …) and the services apply them through the transition service, so
nothing a provider sends reaches a model except through one of these types. They are re-exported from
:mod:`django_kyc.backends.base`, where existing code imports them.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from datetime import timezone as dt_timezone
from typing import Any

from django_kyc.exceptions import WebhookPayloadError, WebhookSignatureMissing


@dataclass(frozen=True)
class ClientToken:
    """What a frontend needs to open the provider's hosted flow or SDK."""

    token: str = ""
    link: str = ""
    expires_at: datetime | None = None


@dataclass(frozen=True)
class DocumentResult:
    """The provider's finding on one of our documents (matched by our id or the provider's).

    ``fields`` lets a provider that reads the document itself (an NFC chip, a hosted capture) supply it:
    when no document matches, one is created from them (``type``, ``number``, ``issuing_country``,
    ``issue_date``, ``expiry_date``).
    """

    status: str
    document_id: str = ""
    provider_document_id: str = ""
    reasons: Sequence[str] = ()
    fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderState:
    """A verification's state as the provider reports it, already normalised."""

    status: str
    provider_status: str
    reasons: Sequence[str] = ()
    occurred_at: datetime | None = None
    documents: Sequence[DocumentResult] = ()
    data: Mapping[str, Any] = field(default_factory=dict)
    #: Person data the provider established (e.g. read from a passport chip). Filled into blank applicant
    #: fields only; differences from what the applicant typed are kept in ``provider_data`` for reviewers.
    applicant_data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RetryPolicy:
    """How a provider wants failed calls retried; ``None`` means the ``DJANGO_KYC`` default."""

    max_attempts: int | None = None
    base_seconds: float | None = None
    max_seconds: float | None = None


@dataclass(frozen=True)
class Submission:
    """The result of :meth:`KycBackend.start_verification`."""

    state: ProviderState
    provider_applicant_id: str = ""
    provider_verification_id: str = ""
    client: ClientToken | None = None
    #: Our ids of the documents this submission sent (a ``document_upload`` backend): of these, the ones still
    #: ``uploaded`` become ``submitted``. ``None``, the default, does not say, and every uploaded document of
    #: the applicant is taken as sent; an empty tuple sent none, and the documents are not read again.
    documents: tuple[str, ...] | None = None


#: ``provider_data`` key of the create calls whose answer has not arrived (see :meth:`KycBackend.creating`).
UNANSWERED_CREATES = "unanswered_creates"


@dataclass(frozen=True)
class PossibleDuplicate:
    """A call that creates something at the provider whose answer never arrived (a timeout, a reset, a 5xx,
    a worker killed mid-call), and that nothing found again afterwards: the provider may hold an object (a
    second session, a second billed verification) that no verification of ours refers to. The submission
    service writes one ``possible_duplicate`` audit row per item so a reviewer can look for it."""

    kind: str
    call: str
    attempted_at: str

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any]) -> PossibleDuplicate:
        return cls(
            kind=str(entry.get("kind") or ""),
            call=str(entry.get("call") or ""),
            attempted_at=str(entry.get("at") or ""),
        )


def possible_duplicates(provider_data: Mapping[str, Any]) -> list[PossibleDuplicate]:
    """The unanswered create calls a verification's ``provider_data`` still lists."""
    entries = provider_data.get(UNANSWERED_CREATES)
    return (
        [PossibleDuplicate.from_entry(e) for e in entries if isinstance(e, Mapping)]
        if isinstance(entries, list)
        else []
    )


@dataclass(frozen=True)
class InboundWebhook:
    """A webhook delivery as the backend sees it: the raw bytes, never a parsed body."""

    body: bytes
    headers: Mapping[str, str]
    remote_addr: str = ""

    def header(self, name: str) -> str:
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return ""

    def signature_header(self, name: str) -> str:
        """The header carrying the delivery's signature; :class:`WebhookSignatureMissing` when it is absent."""
        value = self.header(name)
        if not value:
            raise WebhookSignatureMissing(f"{name} header missing")
        return value

    def json_object(self, what: str = "webhook body") -> dict[str, Any]:
        """The body as a JSON object; :class:`WebhookPayloadError` naming ``what`` when it is not JSON or not an
        object (a malformed delivery is refused, never half-read)."""
        try:
            payload = json.loads(self.body)
        except ValueError as exc:
            raise WebhookPayloadError(f"{what} is not JSON") from exc
        if not isinstance(payload, dict):
            raise WebhookPayloadError(f"{what} is not a JSON object")
        return payload


@dataclass(frozen=True)
class ProviderEvent:
    """One event parsed from an authenticated delivery.

    ``event_id`` must be stable across redeliveries of the same event; it is the de-duplication key.
    ``state`` may be ``None`` when the provider only notifies and the current state has to be fetched.
    Everything in it must be storable (see :func:`unstorable`); an event that is not is refused.

    ``claim`` is for such fetch-on-notify events whose ``event_id`` is built from fields no signature covers
    (an unsigned callback's ``session_state``): what the delivery says the provider's state now is. A delivery
    anyone could have forged must not hold the de-duplication key of the genuine delivery that may follow, so
    the event only takes its key once the fetched state confirms the claim (:meth:`KycBackend.claim_confirmed`);
    until then a repeat of it is stored and fetched again, which costs a call and applies nothing twice. Empty
    when every field of the ``event_id`` is authenticated: the key is held at once.
    """

    event_id: str
    event_type: str
    provider_ref: str = ""
    our_ref: str = ""
    occurred_at: datetime | None = None
    state: ProviderState | None = None
    claim: str = ""


#: NUL (PostgreSQL refuses it in text and JSON columns) and unpaired surrogates (no driver can encode them)
_UNSTORABLE_CHARACTERS = re.compile("[\x00\ud800-\udfff]")


def unstorable(value: Any, where: str) -> str | None:
    """Where in ``value`` something lies that a database cannot store, or ``None`` when everything can be.

    That is a string holding NUL or an unpaired surrogate, or an aware datetime outside years 1-9999 once in
    UTC (as it is stored). Providers' JSON can carry each of them (``\\u0000``, ``\\ud800``,
    ``0001-01-01T00:00+05:00``) and backends pass values through, so the webhook service checks the events a
    backend returns with this before storing them: one rule, the same on every database (SQLite would keep a
    NUL that PostgreSQL refuses). Walks dataclasses, mappings (keys too) and sequences without recursing, so
    depth is no problem. ``where`` names ``value``; the answer extends it with dataclass field names only
    (mapping keys come from the sender and are not repeated).

    It runs on every webhook delivery, so a path is spelled out only for the dataclasses walked through (and
    for the answer), and the common types are recognised before the abstract ones.
    """
    # (item, the path of its parent, its field name in that parent or "" when it has none)
    pending: list[tuple[Any, str, str]] = [(value, where, "")]
    while pending:
        item, parent, name = pending.pop()
        kind: Any = type(item)  # Any: typeshed does not count a type[Any] as Hashable, as the cache wants
        if kind is str or isinstance(item, str):
            if _UNSTORABLE_CHARACTERS.search(item):
                return f"{parent}.{name}" if name else parent
        elif item is None or kind in _SCALARS:
            continue
        elif isinstance(item, datetime):
            if item.tzinfo is not None:
                try:
                    item.astimezone(dt_timezone.utc)
                except OverflowError:
                    return f"{parent}.{name}" if name else parent
        elif hasattr(kind, "__dataclass_fields__") and not isinstance(item, type):
            path = f"{parent}.{name}" if name else parent
            pending.extend((getattr(item, part), path, part) for part in _field_names(kind))
        elif isinstance(item, dict | Mapping):
            for key, member in item.items():
                pending.extend(((key, parent, name), (member, parent, name)))
        elif isinstance(item, list | tuple | set | frozenset):
            pending.extend((member, parent, name) for member in item)
    return None


_SCALARS = frozenset({int, float, bool})


@functools.cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(part.name for part in fields(cls))


@dataclass(frozen=True)
class AmlHitResult:
    entity_id: str
    caption: str
    score: float | None = None
    topics: Sequence[str] = ()
    datasets: Sequence[str] = ()
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AmlResult:
    """A screening's outcome. ``status`` is ``clear``, ``potential_match`` (hits for a reviewer) or, when the
    provider is still working, ``running`` (the check is polled until it settles)."""

    status: str
    provider_status: str = ""
    provider_check_id: str = ""
    hits: Sequence[AmlHitResult] = ()
    data: Mapping[str, Any] = field(default_factory=dict)
    score: float | None = None
    risk_level: str = ""
    monitored: bool = False
