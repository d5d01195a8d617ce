"""PassportReader (passportreader.app, the "Iris ID" app): passports read from their NFC chip.

The person scans their passport's chip with the Iris ID app (a hosted flow we hand off to with a link); we
never upload documents. The API is small and uniform: every call is a ``POST`` with a JSON body to
``<BASE_URL>/<class>.<method>`` under HTTP Basic auth (public key : secret).

The provider does not sign its callbacks, so authenticity comes from us: the ``reference`` we give
``session.create`` is our verification id sealed with AES-256-GCM (:func:`~django_kyc.backends.signing.seal`).
A callback is only accepted when its ``session_reference`` opens with one of our keys *and* names the
verification that holds the callback's ``session_id``; even then it is only a "go and look" signal: the state
is always read back with ``session.get`` / ``session.state`` over the authenticated API (fetch-on-notify), so
a replayed or reordered callback can at worst make us ask again.

Options: ``PassportReaderBackend.option_specs``, documented in ``docs/providers/passportreader.md``.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlencode

from django.conf import settings
from django.utils import timezone

from django_kyc.backends.base import (
    Capability,
    ClientToken,
    DocumentResult,
    InboundWebhook,
    KycBackend,
    Option,
    ProviderEvent,
    ProviderState,
    RetryPolicy,
    Submission,
)
from django_kyc.backends.http import ProviderHttpClient, error_message_from
from django_kyc.backends.options import boolean, number, secrets
from django_kyc.backends.parsing import iso_date, iso_datetime
from django_kyc.backends.signing import as_secret_list, derive_key, open_sealed, seal
from django_kyc.exceptions import (
    PermanentProviderError,
    TransientProviderError,
    WebhookAuthenticationError,
    WebhookPayloadError,
    WebhookSignatureMissing,
)
from django_kyc.status import DocumentStatus, VerificationStatus

if TYPE_CHECKING:
    from django_kyc.models import Verification

logger = logging.getLogger("django_kyc.passportreader")

DEFAULT_BASE_URL = "https://passportreader.app/api/v1/"
DEFAULT_OPEN_URL = "https://passportreader.app/open"
#: HKDF ``info`` for the reference keys: a secret shared with other uses yields an unrelated AES key here.
REFERENCE_PURPOSE = "django_kyc.passportreader.reference"
#: Associated data binding a sealed hand-off token to its use, so it can never pass as a reference.
TOKEN_ASSOCIATED = b"django_kyc.passportreader.session-token"

V = VerificationStatus


#: ``{"error_message": "...", "error_name": "SessionNotFound"}`` → ``"SessionNotFound: ..."``. The message is
#: optional in the provider's format, so the name alone (or the HTTP reason) must do.
passportreader_error_message = error_message_from("{error_name}: {error_message}", "error_name", "error_message")


def _country(value: Any) -> str:
    """A two-letter ISO 3166 code as the docs promise, or ``""`` (never a guess from another format)."""
    text = str(value or "").strip().upper()
    return text if re.fullmatch(r"[A-Z]{2}", text) else ""


class PassportReaderBackend(KycBackend):
    """Sessions at PassportReader: create, hand off to the Iris ID app, read the chip data back."""

    provider = "passportreader"
    display_name = "PassportReader"
    #: Honest: a hosted flow (the app), polling and (unsigned) callbacks; no uploads, no AML, no deletion API.
    capabilities = frozenset({Capability.HOSTED_FLOW, Capability.POLLING, Capability.WEBHOOKS})
    option_specs = (
        Option(
            "PUBLIC_KEY", "The `public-key-…` credential, prefix included (the Basic auth user name).", required=True
        ),
        Option(
            "SECRET",
            "The `secret-…` credential, prefix included (the Basic auth password).",
            required=True,
            secret=True,
        ),
        Option(
            "BASE_URL",
            "Where `session.create` etc. live. Point it at the fake server for tests and the demo.",
            url=True,
            default=DEFAULT_BASE_URL,
        ),
        Option(
            "CALLBACK_URL",
            "Absolute URL of this alias's webhook view (`/kyc/webhooks/<alias>/`), sent as `callback_url`. "
            "Unset, the provider sends no callbacks and decisions arrive by polling only.",
            url=True,
        ),
        Option(
            "FACE_VERIFICATION",
            "Sent as `face_verification`: the app also compares the holder's face with the chip portrait.",
            coerce=boolean,
            default=False,
        ),
        Option("REDIRECT_URL", "`redirect_url` of the hand-off link: where the app sends the person afterwards."),
        Option("OPEN_URL", "The hand-off page the link points to.", url=True, default=DEFAULT_OPEN_URL),
        Option(
            "REFERENCE_KEYS",
            "Secrets the sealing keys are derived from (one string or a list, newest first): new references are "
            "sealed with the first, all are tried when opening, so a key can be rotated without rejecting "
            "callbacks of sessions still open. Each goes through HKDF-SHA256 with the purpose "
            '`"django_kyc.passportreader.reference"`, so the AES key is never the raw setting.',
            coerce=secrets,
            secret=True,
            default_doc="`SECRET_KEY`, then `SECRET_KEY_FALLBACKS`",
        ),
        Option(
            "CLIENT_TOKEN_TTL",
            "Seconds after which a hand-off token whose expiry we do not know yet is re-checked with "
            "`session.get` (`session.create` does not return the expiry).",
            coerce=number(minimum=1),
            default=900.0,
        ),
    )
    #: The seed: "retry up to 4 times ... after 2, 4, 8 and finally after 16 seconds", never on 4xx.
    retry_policy = RetryPolicy(max_attempts=5, base_seconds=2, max_seconds=16)
    #: The seed: "The timeout for a given request is 60 seconds" (the connect timeout is ours).
    default_timeout = (10.0, 60.0)

    #: Session states (seen in a third-party integration; the vendor documents none of them) → our statuses.
    #: CREATED / INITIATED: the person has not finished in the app. COMPLETED: chip read, decision pending.
    #: FAILED / ABORTED: this session is over without a result, the person has to try again, so
    #: ``resubmission_requested`` (not ``error``: nothing failed on our side, and a later decision of a
    #: re-opened session can still be applied from it).
    STATUS_MAP: ClassVar[Mapping[str, str]] = {
        "CREATED": V.AWAITING_USER,
        "INITIATED": V.AWAITING_USER,
        "COMPLETED": V.PROCESSING,
        "APPROVED": V.APPROVED,
        "REJECTED": V.DECLINED,
        "FAILED": V.RESUBMISSION_REQUESTED,
        "ABORTED": V.RESUBMISSION_REQUESTED,
    }
    #: A state we do not know is kept raw and goes to a person, never to a decision (the base's ``UNKNOWN_STATUS``).
    STATE_REASONS: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "FAILED": ("SESSION_FAILED",),
        "ABORTED": ("SESSION_ABORTED",),
    }
    #: States whose session carries the chip data worth reading with ``session.get``.
    DECIDED_STATES: ClassVar[frozenset[str]] = frozenset({"APPROVED", "REJECTED"})
    #: States in which the person can still use the session's hand-off token.
    OPEN_STATES: ClassVar[frozenset[str]] = frozenset({"CREATED", "INITIATED"})
    #: States after which a retry needs a new session (this one will never produce a decision).
    DEAD_STATES: ClassVar[frozenset[str]] = frozenset({"FAILED", "ABORTED"})
    DOCUMENT_TYPES: ClassVar[Mapping[str, str]] = {
        "PASSPORT": "passport",
        "ID_CARD": "id_card",
        "IDENTITY_CARD": "id_card",
        "RESIDENCE_PERMIT": "residence_permit",
        "DRIVING_LICENCE": "driving_licence",
        "DRIVING_LICENSE": "driving_licence",
    }

    # --- options -------------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return str(self.option("BASE_URL"))

    @property
    def reference_keys(self) -> list[bytes]:
        """AES-256 keys, newest first (see ``REFERENCE_KEYS``)."""
        secrets: list[bytes] = self.option("REFERENCE_KEYS") or []
        if not secrets:
            secrets = as_secret_list([settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])])
        return [derive_key(secret, REFERENCE_PURPOSE) for secret in secrets]

    @cached_property
    def client(self) -> ProviderHttpClient:
        # every answer is a flat JSON object; another shape is taken for a proxy's doing and retried
        return self.http_client(
            self.base_url,
            auth=(self.option("PUBLIC_KEY"), self.option("SECRET")),
            error_message=passportreader_error_message,
            wrong_type=TransientProviderError,
        )

    # --- the API -------------------------------------------------------------------------------------
    def call(self, method: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """``POST <base>/<class>.<method>`` with a JSON body; the answer is always a flat JSON object."""
        data: dict[str, Any] = self.client.json("POST", method, json=dict(payload))
        return data

    def get_session(self, session_id: str) -> dict[str, Any]:
        session = self.call("session.get", {"id": int(session_id)})
        if str(session.get("id")) != str(session_id):
            raise PermanentProviderError("session.get answered for another session", provider=self.provider)
        return session

    # --- references ----------------------------------------------------------------------------------
    def seal_reference(self, verification_id: str) -> str:
        return seal(self.reference_keys[0], {"v": str(verification_id)})

    def open_reference(self, reference: str) -> str:
        """Our verification id from a sealed reference; :class:`WebhookAuthenticationError` if it is not ours."""
        payload = open_sealed(self.reference_keys, reference)
        verification_id = payload.get("v", "")
        if not verification_id:
            raise WebhookAuthenticationError("reference names no verification")
        return verification_id

    def _stored_token(self, verification: Verification) -> str:
        """The hand-off token kept (sealed: admin shows ``provider_data``) for the session we hold."""
        stored = verification.provider_data.get("session")
        if not isinstance(stored, Mapping) or str(stored.get("id")) != verification.provider_verification_id:
            return ""
        try:
            return open_sealed(self.reference_keys, str(stored.get("token", "")), TOKEN_ASSOCIATED).get("t", "")
        except WebhookAuthenticationError:
            return ""  # sealed with a key since retired: a new session will be created

    def _link(self, token: str) -> str:
        query = {"token": token}
        if self.option("REDIRECT_URL"):
            query["redirect_url"] = self.option("REDIRECT_URL")
        return f"{self.option('OPEN_URL')}?{urlencode(query)}"

    def _client_token(self, token: str, expires_at: datetime | None) -> ClientToken:
        if expires_at is None:
            # session.create does not say when the token expires: look again after CLIENT_TOKEN_TTL
            expires_at = timezone.now() + timedelta(seconds=self.option("CLIENT_TOKEN_TTL"))
        return ClientToken(token=token, link=self._link(token), expires_at=expires_at)

    # --- verifications -------------------------------------------------------------------------------
    def create_session(self, verification: Verification) -> Submission:
        """``session.create``, with the session id committed before anything else can go wrong."""
        payload: dict[str, Any] = {
            "reference": self.seal_reference(str(verification.pk)),
            "face_verification": self.option("FACE_VERIFICATION"),
        }
        if self.option("CALLBACK_URL"):
            payload["callback_url"] = self.option("CALLBACK_URL")
        # PassportReader documents no way to find a session again (no list, no search by reference), so a
        # session.create whose answer is lost stays unanswered and is reported as a possible duplicate
        with self.creating(verification, "session", "session.create") as call:
            created = self.call("session.create", payload)
            session_id, token = created.get("id"), created.get("token")
            usable = isinstance(session_id, int) and not isinstance(session_id, bool) and isinstance(token, str)
            if not usable or not token:
                # permanent: retrying would create a second session we could not track either
                raise PermanentProviderError("session.create answered without an id and token", provider=self.provider)
            call.remember(
                provider_verification_id=str(session_id),
                provider_data={
                    "session": {
                        "id": str(session_id),
                        "token": seal(self.reference_keys[0], {"t": token}, TOKEN_ASSOCIATED),
                    }
                },
            )
        return Submission(
            state=ProviderState(status=self.map_status("CREATED"), provider_status="CREATED"),
            provider_verification_id=str(session_id),
            client=self._client_token(token, None),
        )

    def _usable_session(self, verification: Verification) -> tuple[dict[str, Any], str] | None:
        """The session we already hold and its token, unless it is gone, dead or expired unused."""
        try:
            session = self.get_session(verification.provider_verification_id)
        except PermanentProviderError as exc:
            if exc.status_code == 404:
                logger.warning("passportreader session of verification %s no longer exists", verification.pk)
                return None
            raise
        state = str(session.get("state") or "")
        expires = iso_datetime(session.get("expires"))
        if state in self.DEAD_STATES:
            return None
        token = self._stored_token(verification)
        if state in self.OPEN_STATES and (not token or (expires is not None and expires <= timezone.now())):
            return None
        return session, token

    def start_verification(self, verification: Verification) -> Submission:
        """Idempotent: a verification that already holds a session (a crash after ``session.create``) gets
        that session's state and token back instead of a second session."""
        if verification.provider_verification_id:
            usable = self._usable_session(verification)
            if usable is not None:
                session, token = usable
                return Submission(
                    state=self.state_from_session(verification, session),
                    provider_verification_id=verification.provider_verification_id,
                    client=self._client_token(token, iso_datetime(session.get("expires"))) if token else None,
                )
        return self.create_session(verification)

    def issue_client_token(self, verification: Verification) -> ClientToken:
        """The held session's token with its real expiry, or a new session's if that one cannot be used.

        Before the submission task has created a session there is nothing to hand out (creating one here
        would race that task into a second session), and once the person has finished in the app a new
        session would only restart what is being decided: both get an empty token.
        """
        if not verification.provider_verification_id:
            return ClientToken()
        usable = self._usable_session(verification)
        if usable is not None and usable[1]:
            session, token = usable
            return self._client_token(token, iso_datetime(session.get("expires")))
        if verification.status not in (V.AWAITING_USER, V.RESUBMISSION_REQUESTED):
            return ClientToken()
        client = self.create_session(verification).client
        assert client is not None
        return client

    def fetch_verification(self, verification: Verification) -> ProviderState:
        """``session.state`` (no personal data travels), then ``session.get`` only for a decision."""
        session_id = verification.provider_verification_id
        if not session_id:
            raise PermanentProviderError("the verification has no PassportReader session yet", provider=self.provider)
        state = str(self.call("session.state", {"id": int(session_id)}).get("state") or "")
        if state not in self.DECIDED_STATES:
            return self._state(state)
        return self.state_from_session(verification, self.get_session(session_id))

    def _state(self, raw: str, **kwargs: Any) -> ProviderState:
        return ProviderState(
            status=self.map_status(raw),
            provider_status=raw or "(empty)",
            reasons=self.STATE_REASONS.get(raw, ()),
            **kwargs,
        )

    def state_from_session(self, verification: Verification, session: Mapping[str, Any]) -> ProviderState:
        """Normalise a ``session.get`` answer. Chip data only counts on a decision.

        The session's own reference must name this verification (a mix-up of session ids must not move a
        stranger's verification). The portrait, the face image, the personal number and the person's IP and
        user agent are read but never stored (data minimisation); whether a portrait came back is noted.
        """
        self._check_reference(verification, session)
        raw = str(session.get("state") or "")
        if raw not in self.DECIDED_STATES:
            return self._state(raw)
        passport = {
            "document_type": str(session.get("document_type") or ""),
            "sex": str(session.get("sex") or ""),
            "issuer": str(session.get("issuer") or ""),
            "nationality": str(session.get("nationality") or ""),
            "issuing_country": str(session.get("issuing_country") or ""),
            "portrait_returned": bool(session.get("portrait")),
            "face_returned": bool(session.get("face")),
        }
        document = self._document_result(verification, session, raw)
        applicant_data = self._applicant_data(session) if raw == "APPROVED" else {}
        return self._state(
            raw,
            data={"passport": passport},
            documents=(document,) if document else (),
            applicant_data=applicant_data,
        )

    def _check_reference(self, verification: Verification, session: Mapping[str, Any]) -> None:
        reference = str(session.get("reference") or "")
        try:
            named = self.open_reference(reference)
        except WebhookAuthenticationError:
            # sealed with a retired key (or missing): the session id came from our own database over the
            # authenticated API, so this is worth a warning, not a refusal
            logger.warning("passportreader session %s: reference does not open with our keys", session.get("id"))
            return
        if named != str(verification.pk):
            raise PermanentProviderError(
                f"session {session.get('id')} belongs to another verification", provider=self.provider
            )

    def _applicant_data(self, session: Mapping[str, Any]) -> dict[str, Any]:
        """Chip names as printed (upper case, MRZ style): the first given name, the others as middle names."""
        given = str(session.get("given_names") or "").split()
        return {
            "first_name": given[0] if given else "",
            "middle_name": " ".join(given[1:]),
            "last_name": " ".join(str(session.get("surname") or "").split()),
            "date_of_birth": iso_date(session.get("date_of_birth")),
            "nationality": _country(session.get("nationality")),
        }

    def _document_result(
        self, verification: Verification, session: Mapping[str, Any], raw: str
    ) -> DocumentResult | None:
        """The chip's document, matched to a document the applicant entered (same type and number) if any."""
        from django_kyc.crypto import blind_index
        from django_kyc.models import Document

        number = str(session.get("document_number") or "").strip()
        if not number:
            return None
        doc_type = self.DOCUMENT_TYPES.get(str(session.get("document_type") or "").upper(), "other")
        existing = (
            Document.objects.filter(
                applicant_id=verification.applicant_id, type=doc_type, number_bidx=blind_index(number)
            )
            .exclude(status=DocumentStatus.PURGED)
            .values_list("pk", flat=True)
            .first()
        )
        return DocumentResult(
            status=DocumentStatus.ACCEPTED if raw == "APPROVED" else DocumentStatus.REJECTED,
            document_id=str(existing) if existing else "",
            provider_document_id=f"passportreader-session-{session.get('id')}",
            fields={
                "type": doc_type,
                "number": number[:64],
                "issuing_country": _country(session.get("issuing_country")),
                "expiry_date": iso_date(session.get("expiry_date")),
            },
        )

    # --- webhooks ------------------------------------------------------------------------------------
    @staticmethod
    def _payload(webhook: InboundWebhook) -> tuple[int, str, str]:
        """``(session_id, session_state, session_reference)``; :class:`WebhookPayloadError` if malformed."""
        import json

        try:
            payload = json.loads(webhook.body)
        except ValueError as exc:
            raise WebhookPayloadError("callback body is not JSON") from exc
        if not isinstance(payload, dict):
            raise WebhookPayloadError("callback body is not a JSON object")
        session_id, state = payload.get("session_id"), payload.get("session_state")
        if not isinstance(session_id, int) or isinstance(session_id, bool) or not isinstance(state, str) or not state:
            raise WebhookPayloadError("callback needs an integer session_id and a session_state")
        reference = payload.get("session_reference")
        return session_id, state, reference if isinstance(reference, str) else ""

    def authenticate_webhook(self, webhook: InboundWebhook) -> None:
        """Callbacks are unsigned: believe one only if its reference is ours and names its session's holder."""
        from django_kyc.models import Verification

        session_id, _, reference = self._payload(webhook)
        if not reference:
            raise WebhookSignatureMissing("session_reference missing: the callback cannot be authenticated")
        verification_id = self.open_reference(reference)
        try:
            uuid.UUID(verification_id)
        except ValueError as exc:
            raise WebhookAuthenticationError("reference names no verification of this backend") from exc
        holder = (
            Verification.objects.filter(pk=verification_id, backend=self.alias)
            .values_list("provider_verification_id", flat=True)
            .first()
        )
        if holder is None:
            raise WebhookAuthenticationError("reference names no verification of this backend")
        if holder != str(session_id):
            raise WebhookAuthenticationError("reference and session_id belong to different verifications")

    def parse_webhook(self, webhook: InboundWebhook) -> list[ProviderEvent]:
        """One event per (session, state): the provider's only stable identity for a callback. The state
        is left to a fetch (``state=None``), so the callback's own ``session_state`` is never trusted, and it
        is only a claim (:attr:`ProviderEvent.claim`): whoever knows a session's reference can send any state,
        so the event holds ``<session>:<state>`` only once the fetched session is in that state. Until then a
        later genuine callback with that state is stored and applied, not dropped as a repeat."""
        session_id, state, _ = self._payload(webhook)
        return [
            ProviderEvent(
                event_id=f"{session_id}:{state}",
                event_type=f"session.{state}"[:128],
                provider_ref=str(session_id),
                state=None,
                claim=state,
            )
        ]
