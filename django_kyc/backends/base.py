"""The backend contract and the plain values backends return.

Backends translate between one provider's API and the normalised vocabulary in :mod:`django_kyc.status`.
They return frozen dataclasses, never model instances, and never change statuses themselves: the services
apply what they return through the transition service.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import datetime
from datetime import timezone as dt_timezone
from typing import TYPE_CHECKING, Any, ClassVar

from django_kyc.backends.http import ErrorMessage, ProviderHttpClient, default_error_message
from django_kyc.exceptions import KycConfigurationError, ProviderError, UnsupportedFeature

if TYPE_CHECKING:
    from django_kyc.models import AmlCheck, Applicant, Verification


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
    """
    pending: list[tuple[Any, str]] = [(value, where)]
    while pending:
        item, path = pending.pop()
        if isinstance(item, str):
            if _UNSTORABLE_CHARACTERS.search(item):
                return path
        elif isinstance(item, datetime):
            if item.tzinfo is not None:
                try:
                    item.astimezone(dt_timezone.utc)
                except OverflowError:
                    return path
        elif is_dataclass(item) and not isinstance(item, type):
            pending.extend((getattr(item, part.name), f"{path}.{part.name}") for part in fields(item))
        elif isinstance(item, Mapping):
            for key, member in item.items():
                pending.extend(((key, path), (member, path)))
        elif isinstance(item, list | tuple | set | frozenset):
            pending.extend((member, path) for member in item)
    return None


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


class CreateCall:
    """One checkpointed create call (:meth:`KycBackend.creating`)."""

    def __init__(self, backend: KycBackend, verification: Verification, entry_id: str) -> None:
        self.backend = backend
        self.verification = verification
        self.entry_id = entry_id
        self.settled = False

    def remember(self, **fields: Any) -> None:
        """Commit what the call created (as :meth:`KycBackend.remember`) and settle the call, in one UPDATE."""
        self.backend._commit(self.verification, fields, lambda entry: entry.get("id") == self.entry_id)
        self.settled = True


class KycBackend:
    """Base class every provider backend implements.

    ``required_options`` are checked by the system checks and at construction, with errors naming the
    exact key. Methods a provider cannot support raise :class:`UnsupportedFeature`.
    """

    provider: ClassVar[str] = ""
    capabilities: ClassVar[frozenset[str]] = frozenset()
    required_options: ClassVar[tuple[str, ...]] = ()
    #: Options whose values are secrets: never logged, never shown in admin.
    secret_options: ClassVar[tuple[str, ...]] = ()
    #: Options that must be absolute http(s) URLs when set (checked at construction, key named).
    url_options: ClassVar[tuple[str, ...]] = ()
    #: Options limited to a set of values: name -> (allowed values, default when unset).
    choice_options: ClassVar[Mapping[str, tuple[tuple[Any, ...], Any]]] = {}
    #: Headers :meth:`parse_webhook` reads, stored with each delivery so it can be re-parsed when processed
    #: or reprocessed (e.g. a GCM tag, a signed timestamp). Never credentials.
    parse_headers: ClassVar[tuple[str, ...]] = ()
    #: The provider's own retry guidance, when it publishes one.
    retry_policy: ClassVar[RetryPolicy] = RetryPolicy()

    def __init__(self, alias: str, options: Mapping[str, Any]) -> None:
        self.alias = alias
        self.options = dict(options)
        missing = self.missing_options(self.options)
        if missing:
            raise self.option_error(missing[0], f"is required by {type(self).__name__}.")
        for key in self.url_options:
            value = self.options.get(key)
            if value and not str(value).startswith(("https://", "http://")):
                raise self.option_error(key, "must be an absolute http(s) URL.")
        for key, (allowed, default) in self.choice_options.items():
            value = self.options.get(key, default)
            if value not in allowed:
                raise self.option_error(key, f"must be one of {allowed}, not {value!r}.")

    def option_error(self, key: str, message: str) -> KycConfigurationError:
        """A configuration error that names the exact setting, so the fix is obvious from the message."""
        return KycConfigurationError(f'DJANGO_KYC["BACKENDS"]["{self.alias}"]["OPTIONS"]["{key}"] {message}')

    @classmethod
    def missing_options(cls, options: Mapping[str, Any]) -> list[str]:
        return [name for name in cls.required_options if not options.get(name)]

    def supports(self, capability: str) -> bool:
        return capability in self.capabilities

    # --- HTTP ----------------------------------------------------------------------------------------
    #: The provider's recommended (connect, read) timeouts, if it publishes them.
    default_timeout: ClassVar[tuple[float, float] | None] = None

    def http_client(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        error_message: ErrorMessage = default_error_message,
    ) -> ProviderHttpClient:
        """The shared HTTP client for this alias. Timeouts: ``OPTIONS["CONNECT_TIMEOUT"]`` /
        ``["READ_TIMEOUT"]``, else the provider's guidance, else ``DJANGO_KYC``'s HTTP timeouts."""
        timeout = self.default_timeout
        if "READ_TIMEOUT" in self.options or "CONNECT_TIMEOUT" in self.options:
            connect, read = timeout or (None, None)
            timeout = (
                float(self.options.get("CONNECT_TIMEOUT", connect or 5.0)),
                float(self.options.get("READ_TIMEOUT", read or 30.0)),
            )
        return ProviderHttpClient(
            provider=self.provider or self.alias,
            base_url=base_url,
            headers=headers,
            auth=auth,
            timeout=timeout,
            error_message=error_message,
        )

    # --- checkpoints ---------------------------------------------------------------------------------
    def remember(self, verification: Verification, *, settles: str = "", **fields: Any) -> None:
        """Commit provider ids the moment the provider hands them out.

        A submission may take several calls (create applicant, upload files, create verification). If the
        worker dies half-way, the retry finds what was already created on the verification and reuses it
        instead of creating a second provider applicant. ``provider_data`` values are merged, not replaced.
        ``settles`` names a kind of create call (see :meth:`creating`) whose unanswered calls are accounted for
        by what is remembered here: a lookup found the object they created.
        """
        self._commit(verification, fields, lambda entry: bool(settles) and entry.get("kind") == settles)

    def _commit(self, verification: Verification, fields: dict[str, Any], settled: Callable[[Any], bool]) -> None:
        from django_kyc.models import Verification as VerificationModel

        allowed = {"provider_applicant_id", "provider_verification_id", "provider_data"}
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"remember() cannot store {sorted(unknown)}")
        data = {**verification.provider_data, **fields.get("provider_data", {})}
        unanswered = self.unanswered(verification)
        kept = [entry for entry in unanswered if not settled(entry)]
        if kept != unanswered:
            if kept:
                data[UNANSWERED_CREATES] = kept
            else:
                data.pop(UNANSWERED_CREATES, None)
        if "provider_data" in fields or kept != unanswered:
            fields["provider_data"] = data
        for name, value in fields.items():
            setattr(verification, name, value)
        if fields:
            VerificationModel.objects.filter(pk=verification.pk).update(**fields)

    @staticmethod
    def unanswered(verification: Verification, kind: str = "") -> list[dict[str, Any]]:
        """Create calls (of ``kind``, or all) made for this verification whose answer never arrived."""
        entries = verification.provider_data.get(UNANSWERED_CREATES)
        if not isinstance(entries, list):
            return []
        return [dict(e) for e in entries if isinstance(e, Mapping) and (not kind or e.get("kind") == kind)]

    @contextmanager
    def creating(self, verification: Verification, kind: str, call: str) -> Iterator[CreateCall]:
        """Checkpoint a call that creates ``kind`` at the provider (``call`` says which, for reviewers).

        The call is committed to ``provider_data`` as unanswered before it is made, and settled by
        :meth:`CreateCall.remember` (in the same UPDATE that stores what it created), by a refusal (a 4xx:
        nothing was created) or when the block ends without an error. A timeout, a reset, a 5xx or a killed
        worker leaves it unanswered: the provider may have done the work without our learning its id. The
        next attempt sees it in :meth:`unanswered` and looks the object up where the provider offers a way
        (then ``remember(..., settles=kind)``); what is left unanswered when the submission ends is reported by
        the submission service as a possible duplicate in the audit trail.
        """
        from django.utils import timezone

        entry = {"id": uuid.uuid4().hex, "kind": kind, "call": call, "at": timezone.now().isoformat()}
        self._commit(
            verification,
            {"provider_data": {UNANSWERED_CREATES: [*self.unanswered(verification), entry]}},
            lambda _entry: False,
        )
        handle = CreateCall(self, verification, entry["id"])
        try:
            yield handle
        except ProviderError as exc:
            refused = exc.status_code is not None and 400 <= exc.status_code < 500
            if refused and not handle.settled:
                handle.remember()
            raise
        if not handle.settled:
            handle.remember()

    def remember_document(self, document: Any, provider_document_id: str) -> None:
        """Commit the provider's id for one of our documents as soon as it exists (see :meth:`remember`)."""
        from django_kyc.models import Document

        document.provider_document_id = provider_document_id
        Document.objects.filter(pk=document.pk).update(provider_document_id=provider_document_id)

    def _unsupported(self, feature: str) -> UnsupportedFeature:
        return UnsupportedFeature(self.provider or self.alias, feature)

    # --- verifications -------------------------------------------------------------------------------
    def start_verification(self, verification: Verification) -> Submission:
        """Create the provider session. Must be idempotent: it is called again after a crash."""
        raise self._unsupported("start_verification")

    def fetch_verification(self, verification: Verification) -> ProviderState:
        """The provider's current state, for polling and fetch-on-notify."""
        raise self._unsupported("fetch_verification")

    def issue_client_token(self, verification: Verification) -> ClientToken:
        """A fresh hosted-flow link or SDK token for an existing provider session."""
        raise self._unsupported("issue_client_token")

    # --- webhooks ------------------------------------------------------------------------------------
    def authenticate_webhook(self, webhook: InboundWebhook) -> None:
        """Raise :class:`WebhookAuthenticationError` unless the raw bytes are provably the provider's."""
        raise self._unsupported("webhooks")

    def parse_webhook(self, webhook: InboundWebhook) -> list[ProviderEvent]:
        """Turn an authenticated delivery into events; raise :class:`WebhookPayloadError` if malformed."""
        raise self._unsupported("webhooks")

    def claim_confirmed(self, event: ProviderEvent, state: ProviderState) -> bool:
        """Whether the fetched ``state`` bears out what the delivery claimed (:attr:`ProviderEvent.claim`).
        Default: the provider now reports the raw status the delivery named."""
        return state.provider_status == event.claim

    # --- AML and data protection ---------------------------------------------------------------------
    def screen(self, aml_check: AmlCheck) -> AmlResult:
        raise self._unsupported("AML screening")

    def check_aml_subject(self, aml_check: AmlCheck) -> None:
        """Refuse, before anything is stored or sent, a subject this provider cannot screen (an unknown chain,
        a malformed address). Raise :class:`PermanentProviderError` with a message for the user."""

    def fetch_aml(self, aml_check: AmlCheck) -> AmlResult:
        """The current result of a screening still ``running`` at the provider."""
        raise self._unsupported("fetching AML results")

    def aml_report(self, aml_check: AmlCheck) -> tuple[bytes, str]:
        """The provider's report document for reviewers, as (content, content type) (capability
        ``aml_report``); fetched on demand, never stored."""
        raise self._unsupported("AML reports")

    def reconcile(self, since: datetime | None = None) -> Iterator[ProviderEvent]:
        """Walk the provider's list of verifications (every page) and yield their current states as events
        with ``state`` set (capability ``reconcile``); ``kyc_reconcile`` applies them."""
        raise self._unsupported("reconciliation")

    def delete_applicant(self, applicant: Applicant) -> None:
        raise self._unsupported("applicant deletion")

    def push_decision(self, verification: Verification, status: str, reason: str = "") -> None:
        """Tell the provider about a reviewer's decision (capability ``push_decision``)."""
        raise self._unsupported("pushing reviewer decisions")
