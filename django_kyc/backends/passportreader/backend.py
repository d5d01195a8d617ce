"""PassportReader (passportreader.app, the "Iris ID" app): passports read from their NFC chip.

The person scans their passport's chip with the Iris ID app (a hosted flow we hand off to with a link); we
never upload documents. This module is the glue: options, the session choreography (one session per
verification, reused after a crash, replaced only when it can no longer be used) and the states built from
what the provider answers. The transport is :mod:`.client`, the state table and the chip data mapping
:mod:`.statuses`, the sealed references :mod:`.crypto` and the callbacks :mod:`.webhooks`.

Options: ``PassportReaderBackend.option_specs``, documented in ``docs/providers/passportreader.md``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlencode

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
from django_kyc.backends.options import boolean, number, secrets
from django_kyc.backends.parsing import iso_datetime
from django_kyc.backends.passportreader import crypto, statuses, webhooks
from django_kyc.backends.passportreader.client import (
    DEFAULT_BASE_URL,
    PassportReaderClient,
    passportreader_error_message,
)
from django_kyc.exceptions import PermanentProviderError, WebhookAuthenticationError, WebhookSignatureMissing
from django_kyc.status import DocumentStatus, VerificationStatus

if TYPE_CHECKING:
    from django_kyc.models import Verification

logger = logging.getLogger("django_kyc.passportreader")

DEFAULT_OPEN_URL = "https://passportreader.app/open"

V = VerificationStatus


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
    #: The API reference: retry failed calls except 4xx up to 4 times, after 2, 4, 8 and 16 seconds
    #: (docs/providers/passportreader.md, "Retries").
    retry_policy = RetryPolicy(max_attempts=5, base_seconds=2, max_seconds=16)
    #: The API reference's 60 s request timeout; the connect timeout is ours.
    default_timeout = (10.0, 60.0)

    STATUS_MAP: ClassVar[Mapping[str, str]] = statuses.STATUS_MAP
    STATE_REASONS: ClassVar[Mapping[str, tuple[str, ...]]] = statuses.STATE_REASONS
    DECIDED_STATES: ClassVar[frozenset[str]] = statuses.DECIDED_STATES
    OPEN_STATES: ClassVar[frozenset[str]] = statuses.OPEN_STATES
    DEAD_STATES: ClassVar[frozenset[str]] = statuses.DEAD_STATES
    DOCUMENT_TYPES: ClassVar[Mapping[str, str]] = statuses.DOCUMENT_TYPES

    @cached_property
    def client(self) -> PassportReaderClient:
        client = self.http_client(
            self.option("BASE_URL"),
            auth=(self.option("PUBLIC_KEY"), self.option("SECRET")),
            error_message=passportreader_error_message,
            client_class=PassportReaderClient,
        )
        assert isinstance(client, PassportReaderClient)
        return client

    # --- references ----------------------------------------------------------------------------------
    @property
    def reference_keys(self) -> list[bytes]:
        """AES-256 keys, newest first (see ``REFERENCE_KEYS``)."""
        return crypto.reference_keys(self.option("REFERENCE_KEYS") or [])

    def seal_reference(self, verification_id: str) -> str:
        return crypto.seal_reference(self.reference_keys, verification_id)

    def open_reference(self, reference: str) -> str:
        """Our verification id from a sealed reference; :class:`WebhookAuthenticationError` if it is not ours."""
        return crypto.open_reference(self.reference_keys, reference)

    def _stored_token(self, verification: Verification) -> str:
        """The hand-off token kept (sealed: admin shows ``provider_data``) for the session we hold."""
        stored = verification.provider_data.get("session")
        if not isinstance(stored, Mapping) or str(stored.get("id")) != verification.provider_verification_id:
            return ""
        return crypto.open_token(self.reference_keys, str(stored.get("token", "")))

    def _client_token(self, token: str, expires_at: datetime | None) -> ClientToken:
        if expires_at is None:
            # session.create does not say when the token expires: look again after CLIENT_TOKEN_TTL
            expires_at = timezone.now() + timedelta(seconds=self.option("CLIENT_TOKEN_TTL"))
        query = {"token": token}
        if self.option("REDIRECT_URL"):
            query["redirect_url"] = self.option("REDIRECT_URL")
        return ClientToken(token=token, link=f"{self.option('OPEN_URL')}?{urlencode(query)}", expires_at=expires_at)

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
            session_id, token = self.client.create_session(payload)
            call.remember(
                provider_verification_id=str(session_id),
                provider_data={
                    "session": {"id": str(session_id), "token": crypto.seal_token(self.reference_keys, token)}
                },
            )
        return Submission(
            state=self._state("CREATED"),
            provider_verification_id=str(session_id),
            client=self._client_token(token, None),
        )

    def _usable_session(self, verification: Verification) -> tuple[dict[str, Any], str] | None:
        """The session we already hold and its token, unless it is gone, dead or expired unused."""
        try:
            session = self.client.get_session(verification.provider_verification_id)
        except PermanentProviderError as exc:
            if exc.status_code == 404:
                logger.warning("passportreader session of verification %s no longer exists", verification.pk)
                return None
            raise
        state = str(session.get("state") or "")
        expires = iso_datetime(session.get("expires"))
        if state in statuses.DEAD_STATES:
            return None
        token = self._stored_token(verification)
        if state in statuses.OPEN_STATES and (not token or (expires is not None and expires <= timezone.now())):
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
        state = self.client.session_state(session_id)
        if state not in statuses.DECIDED_STATES:
            return self._state(state)
        return self.state_from_session(verification, self.client.get_session(session_id))

    def _state(self, raw: str, **kwargs: Any) -> ProviderState:
        return ProviderState(
            status=self.map_status(raw),
            provider_status=statuses.shown(raw),
            reasons=statuses.reasons_for(raw),
            **kwargs,
        )

    def state_from_session(self, verification: Verification, session: Mapping[str, Any]) -> ProviderState:
        """Normalise a ``session.get`` answer. Chip data only counts on a decision, and fills the applicant
        only on an approval (:mod:`.statuses` says what is kept and what is dropped).

        The session's own reference must name this verification (a mix-up of session ids must not move a
        stranger's verification).
        """
        self._check_reference(verification, session)
        raw = str(session.get("state") or "")
        if raw not in statuses.DECIDED_STATES:
            return self._state(raw)
        document = self._document_result(verification, session, raw)
        return self._state(
            raw,
            data={"passport": statuses.passport_data(session)},
            documents=(document,) if document else (),
            applicant_data=statuses.applicant_data(session) if raw == "APPROVED" else {},
        )

    def _check_reference(self, verification: Verification, session: Mapping[str, Any]) -> None:
        try:
            named = self.open_reference(str(session.get("reference") or ""))
        except WebhookAuthenticationError:
            # sealed with a retired key (or missing): the session id came from our own database over the
            # authenticated API, so this is worth a warning, not a refusal
            logger.warning("passportreader session %s: reference does not open with our keys", session.get("id"))
            return
        if named != str(verification.pk):
            raise PermanentProviderError(
                f"session {session.get('id')} belongs to another verification", provider=self.provider
            )

    def _document_result(
        self, verification: Verification, session: Mapping[str, Any], raw: str
    ) -> DocumentResult | None:
        """The chip's document, matched to a document the applicant entered (same type and number) if any."""
        from django_kyc.crypto import blind_index
        from django_kyc.models import Document

        number = statuses.document_number(session)
        if not number:
            return None
        existing = (
            Document.objects.filter(
                applicant_id=verification.applicant_id,
                type=statuses.document_type(session),
                number_bidx=blind_index(number),
            )
            .exclude(status=DocumentStatus.PURGED)
            .values_list("pk", flat=True)
            .first()
        )
        return DocumentResult(
            status=statuses.document_status(raw),
            document_id=str(existing) if existing else "",
            provider_document_id=statuses.provider_document_id(session),
            fields=statuses.document_fields(session),
        )

    # --- webhooks ------------------------------------------------------------------------------------
    def authenticate_webhook(self, webhook: InboundWebhook) -> None:
        """Callbacks are unsigned: believe one only if its reference is ours and names its session's holder."""
        callback = webhooks.read_callback(webhook)
        if not callback.reference:
            raise WebhookSignatureMissing("session_reference missing: the callback cannot be authenticated")
        webhooks.check_holder(self.alias, self.open_reference(callback.reference), callback.session_id)

    def parse_webhook(self, webhook: InboundWebhook) -> list[ProviderEvent]:
        return webhooks.events_for(webhooks.read_callback(webhook))
