"""The Stripe Identity backend: declarations, the session parameters, state building, erasure and reconciliation.

The work is done next door: :mod:`.submission` (create or find the session), :mod:`.state` (sessions as our
states and client tokens), :mod:`.webhooks` (``Stripe-Signature`` and events), :mod:`.client` (the endpoints)
and :mod:`.statuses` (the tables). Options, unknowns and the defaults chosen for them are documented in
``docs/providers/stripe_identity.md``.

Stripe Identity is a hosted flow only: the person shows their document and selfie to Stripe (its hosted page,
``url``, or its modal opened with ``client_secret``). Stripe's API has no way to send it documents a site
collected itself, so the backend does not declare ``document_upload``.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable, Iterator, Mapping
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, cast

from django.utils import timezone

from django_kyc.backends.base import (
    Capability,
    ClientToken,
    InboundWebhook,
    KycBackend,
    ProviderEvent,
    ProviderState,
    Submission,
)
from django_kyc.backends.parsing import mapping, text, uuid_text
from django_kyc.backends.ratelimit import RateLimit, RateLimiter
from django_kyc.backends.signing import as_secret_list
from django_kyc.backends.stripe_identity import options, statuses, webhooks
from django_kyc.backends.stripe_identity.client import StripeIdentityClient, is_not_found, stripe_error_message
from django_kyc.backends.stripe_identity.state import client_token, session_state
from django_kyc.backends.stripe_identity.statuses import META_APPLICANT, META_VERIFICATION
from django_kyc.backends.stripe_identity.submission import SessionSubmission
from django_kyc.exceptions import PermanentProviderError, TransientProviderError

if TYPE_CHECKING:
    from django_kyc.models import Applicant, Verification

logger = logging.getLogger("django_kyc.stripe_identity")


class StripeIdentityBackend(KycBackend):
    """Stripe Identity VerificationSessions: hosted page and modal, signed webhooks, polling, reconciliation and
    redaction (options: ``option_specs``, documented in ``docs/providers/stripe_identity.md``)."""

    provider = "stripe_identity"
    display_name = "Stripe Identity"
    #: No document upload (Stripe captures documents itself), no AML, no reviewer decisions (Stripe's API takes
    #: none); deletion is Stripe's redaction.
    capabilities = frozenset(
        {Capability.HOSTED_FLOW, Capability.WEBHOOKS, Capability.POLLING, Capability.RECONCILE, Capability.DELETE}
    )
    capability_notes = {Capability.DELETE: "redaction, irreversible"}
    #: Test mode's budget, the strictest (what the system checks read); :meth:`request_budgets` picks the
    #: key's mode's, or the site's ``RATE_LIMITS``.
    rate_limits: ClassVar[tuple[RateLimit, ...]] = options.TEST_MODE_LIMITS
    STATUS_MAP: ClassVar[Mapping[Hashable, str]] = statuses.STATUS_MAP
    option_specs = options.OPTION_SPECS

    @classmethod
    def option_rules(cls, config: Mapping[str, Any]) -> list[tuple[str, str]]:
        return options.option_rules(config)

    def status_keys(self, raw: str, *qualifiers: Any) -> Iterable[Hashable]:
        """``(requires_input, last_error.code)`` for ``requires_input``, the status alone otherwise."""
        return statuses.status_keys(raw, str(qualifiers[0]) if qualifiers and qualifiers[0] else "")

    def status_for(self, raw: str, error_code: str = "") -> str:
        """Our status for a session: the site's ``ERROR_CODE_STATUSES`` for a ``requires_input`` error code it
        names, else :meth:`map_status` over ``STATUS_MAP``."""
        overrides = self.option("ERROR_CODE_STATUSES") or {}
        if raw == statuses.REQUIRES_INPUT and error_code in overrides:
            return str(overrides[error_code])
        return self.map_status(raw, error_code)

    # --- configuration -------------------------------------------------------------------------------
    def request_budgets(self) -> tuple[RateLimit, ...]:
        """``RATE_LIMITS`` if set, else Stripe's budget for the key's mode (live keys carry ``_live_``)."""
        configured = self.option("RATE_LIMITS")
        if configured is not None:
            return tuple(configured)
        live = str(self.option("SECRET_KEY")).startswith(("sk_live_", "rk_live_"))
        return options.LIVE_MODE_LIMITS if live else options.TEST_MODE_LIMITS

    @cached_property
    def client(self) -> StripeIdentityClient:
        """One client (one connection pool) per backend instance; the registry caches instances per alias."""
        key = str(self.option("SECRET_KEY"))
        headers = {"Accept": "application/json"}
        if self.option("API_VERSION"):
            headers["Stripe-Version"] = str(self.option("API_VERSION"))
        auth: tuple[str, str] | None = None
        if self.option("AUTH_SCHEME") == "basic":
            auth = (key, "")
        else:
            headers["Authorization"] = f"Bearer {key}"
        budgets = self.request_budgets()
        client = self.http_client(
            str(self.option("BASE_URL")),
            headers=headers,
            auth=auth,
            error_message=stripe_error_message,
            client_class=StripeIdentityClient,
            rate_limiter=RateLimiter(scope=self.alias, limits=budgets, provider=self.provider) if budgets else None,
        )
        return cast(StripeIdentityClient, client)

    @cached_property
    def webhook_secrets(self) -> list[bytes]:
        return as_secret_list(self.option("WEBHOOK_SECRETS"))

    def session_params(self, verification: Verification) -> dict[str, Any]:
        """The create call's parameters. Our references only (the verification's UUID and the applicant's
        opaque reference); the applicant's email and phone only with ``SEND_PROVIDED_DETAILS``."""
        applicant = verification.applicant
        params: dict[str, Any] = {
            "client_reference_id": str(verification.pk),
            "metadata": {META_VERIFICATION: str(verification.pk), META_APPLICANT: applicant.reference},
            "return_url": self.option("RETURN_URL"),
        }
        if self.option("VERIFICATION_FLOW"):
            params["verification_flow"] = self.option("VERIFICATION_FLOW")
        else:
            params["type"] = self.option("TYPE")
            document = {
                "allowed_types": list(self.option("ALLOWED_DOCUMENT_TYPES") or []) or None,
                "require_id_number": self.option("REQUIRE_ID_NUMBER"),
                "require_live_capture": self.option("REQUIRE_LIVE_CAPTURE"),
                "require_matching_selfie": self.option("REQUIRE_MATCHING_SELFIE"),
            }
            document = {key: value for key, value in document.items() if value is not None}
            if document and params["type"] == "document":
                params["options"] = {"document": document}
        if self.option("SEND_PROVIDED_DETAILS"):
            details = {"email": applicant.email or None, "phone": applicant.phone or None}
            if any(details.values()):
                params["provided_details"] = details
        return params

    # --- states --------------------------------------------------------------------------------------
    def state_from(
        self,
        session: Mapping[str, Any],
        occurred_at: datetime | None = None,
        report: Mapping[str, Any] | None = None,
    ) -> ProviderState:
        return session_state(session, self.status_for, occurred_at, report)

    def report_of(self, session: Mapping[str, Any]) -> dict[str, Any] | None:
        """The session's last verification report (``READ_REPORTS``), once it has one and is not redacted."""
        report_id = text(session.get("last_verification_report"))
        if not (self.option("READ_REPORTS") and report_id.startswith("vr_")):
            return None
        if text(mapping(session.get("redaction")).get("status")):
            return None  # its data is gone: nothing to read
        return self.client.get_report(report_id)

    def token_from(self, session: Mapping[str, Any], requested_at: datetime) -> ClientToken:
        return client_token(
            session, requested_at, int(self.option("CLIENT_SECRET_TTL")), with_secret=bool(self.option("CLIENT_SECRET"))
        )

    # --- verifications -------------------------------------------------------------------------------
    def start_verification(self, verification: Verification) -> Submission:
        """The verification's session (held, replayed under its idempotency key, found again, or created), with
        its client secret and hosted link while the person has something to do."""
        requested_at = timezone.now()
        session = SessionSubmission(self, verification).session()
        return Submission(
            state=self.state_from(session),
            provider_verification_id=text(session.get("id")),
            client=self.token_from(session, requested_at),
        )

    def issue_client_token(self, verification: Verification) -> ClientToken:
        """A fresh ``client_secret`` and ``url``: retrieving a ``requires_input`` session returns new ones (also
        after failed checks, for the person's next try). Empty once the session needs nothing from the person,
        and before the submission task created the session (creating one here would race that task)."""
        if not verification.provider_verification_id:
            return ClientToken()
        requested_at = timezone.now()
        return self.token_from(self.client.get_session(verification.provider_verification_id), requested_at)

    def fetch_verification(self, verification: Verification) -> ProviderState:
        """``GET /v1/identity/verification_sessions/{id}`` (polling, and every webhook by default), and its
        verification report once there is one (``READ_REPORTS``)."""
        if not verification.provider_verification_id:
            # an event can overtake the create call's answer (it names our verification): fetch again later
            raise TransientProviderError(
                "the verification's Stripe session id is not recorded yet", provider=self.provider
            )
        session = self.client.get_session(verification.provider_verification_id)
        return self.state_from(session, report=self.report_of(session))

    def cancel_session(self, verification: Verification) -> ProviderState:
        """Cancel the verification's session at Stripe (only possible while it is ``requires_input``;
        irreversible: the person can no longer submit). Not called by the core; for sites that withdraw a
        verification and want the link dead at once."""
        session_id = verification.provider_verification_id
        if not session_id:
            raise PermanentProviderError("the verification has no Stripe session yet", provider=self.provider)
        return self.state_from(self.client.cancel_session(session_id))

    def reconcile(self, since: datetime | None = None) -> Iterator[ProviderEvent]:
        """Every session Stripe lists that carries one of our verification ids, as an event with its current
        state; the newest session only, should a verification have more than one. Stripe filters by creation
        time only: ``since`` keeps the sessions created since then. The events carry no time: a session says
        when it was created, not when its status last changed."""
        filters: dict[str, Any] = {"created": {"gte": int(since.timestamp())}} if since else {}
        seen: set[str] = set()
        # Stripe lists newest first
        for session in self.client.iter_sessions(page_size=int(self.option("PAGE_SIZE")), **filters):
            our_ref = uuid_text(session.get("client_reference_id")) or uuid_text(
                mapping(session.get("metadata")).get(META_VERIFICATION)
            )
            if not our_ref or our_ref in seen:
                continue
            seen.add(our_ref)
            state = self.state_from(session)
            session_id = text(session.get("id"))
            yield ProviderEvent(
                event_id=f"reconcile:{session_id}:{state.provider_status}",
                event_type="verification_session.reconciled",
                provider_ref=session_id,
                our_ref=our_ref,
                state=state,
            )

    # --- webhooks ------------------------------------------------------------------------------------
    sign = staticmethod(webhooks.sign)

    def authenticate_webhook(self, webhook: InboundWebhook) -> None:
        webhooks.authenticate(webhook, self.webhook_secrets, float(self.option("WEBHOOK_TOLERANCE")))

    def parse_webhook(self, webhook: InboundWebhook) -> list[ProviderEvent]:
        return webhooks.parse(webhook, self.status_for, with_state=self.option("WEBHOOK_STATE") == "payload")

    # --- data protection -------------------------------------------------------------------------------
    def delete_applicant(self, applicant: Applicant) -> None:
        """Redact every Stripe session of the applicant's verifications through this alias. Stripe redacts a
        session that is ``requires_input`` (cancelling it) or ``verified``; a redaction under way or done is
        left alone, so the erasure can be retried. A session still ``processing`` is a retry-later; a
        ``canceled`` one Stripe does not redact, and is named in the error so a person can ask Stripe."""
        waiting: list[str] = []
        refused: list[str] = []
        for verification in applicant.verifications.filter(backend=self.alias).exclude(provider_verification_id=""):
            session_id = verification.provider_verification_id
            try:
                session = self.client.get_session(session_id)
            except PermanentProviderError as exc:
                if is_not_found(exc):
                    continue  # never at Stripe under this key's account (or gone): nothing to redact
                raise
            status = text(session.get("status"))
            if text(mapping(session.get("redaction")).get("status")) in statuses.REDACTION_DONE:
                continue
            if status in statuses.REDACTABLE:
                self.client.redact_session(session_id)
                logger.info("stripe_identity: session %s redaction requested", session_id)
            elif status == "processing":
                waiting.append(session_id)
            else:
                refused.append(f"{session_id} ({status or 'no status'})")
        if waiting:
            raise TransientProviderError(
                f"Stripe is still processing {', '.join(waiting)}; redact once it settles", provider=self.provider
            )
        if refused:
            raise PermanentProviderError(
                "Stripe redacts only requires_input or verified sessions; not redacted: " + ", ".join(refused),
                provider=self.provider,
            )
