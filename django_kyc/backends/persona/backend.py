"""The Persona backend: declarations, the inquiry's attributes, client tokens, state building and erasure.

The work is done next door: :mod:`.submission` (create or find the inquiry), :mod:`.state` (inquiries as our
states, tokens as client tokens), :mod:`.webhooks` (``Persona-Signature`` and events), :mod:`.client` (the
endpoints) and :mod:`.statuses` (the tables). Options, unknowns and the defaults chosen for them are
documented in ``docs/providers/persona.md``.

Persona runs the person through an inquiry template in its own flow: hosted (a one-time link) or embedded (the
inquiry id and a session token). Its inquiry API takes no documents a site collected itself, so the backend
does not declare ``document_upload``.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Mapping
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
from django_kyc.backends.parsing import mapping, text
from django_kyc.backends.persona import options, statuses, webhooks
from django_kyc.backends.persona.client import PersonaClient, is_not_found, persona_error_message, resource
from django_kyc.backends.persona.state import client_token, inquiry_state, inquiry_status
from django_kyc.backends.persona.submission import InquirySubmission
from django_kyc.backends.ratelimit import RateLimit, RateLimiter
from django_kyc.backends.signing import as_secret_list
from django_kyc.exceptions import PermanentProviderError, TransientProviderError

if TYPE_CHECKING:
    from django_kyc.models import Applicant, Verification

logger = logging.getLogger("django_kyc.persona")

#: Persona counts requests per minute.
WINDOW = 60.0


class PersonaBackend(KycBackend):
    """Persona inquiries from a template: hosted and embedded flows, signed webhooks, polling and redaction
    (options: ``option_specs``, documented in ``docs/providers/persona.md``)."""

    provider = "persona"
    display_name = "Persona"
    #: No document upload (Persona's flow captures documents itself), no AML through the inquiry API, no
    #: reviewer decisions pushed (the paths of Persona's approve / decline calls are not confirmed); deletion is
    #: Persona's redaction.
    capabilities = frozenset({Capability.HOSTED_FLOW, Capability.WEBHOOKS, Capability.POLLING, Capability.DELETE})
    capability_notes = {Capability.DELETE: "redaction, irreversible"}
    #: The lower of Persona's two published limits (what the system checks read); ``RATE_LIMIT`` is what the
    #: client uses.
    rate_limits: ClassVar[tuple[RateLimit, ...]] = (RateLimit(options.DEFAULT_RATE_LIMIT, WINDOW),)
    STATUS_MAP: ClassVar[Mapping[Hashable, str]] = statuses.STATUS_MAP
    option_specs = options.OPTION_SPECS
    review_headers = webhooks.DELIVERY_HEADERS

    @classmethod
    def option_rules(cls, config: Mapping[str, Any]) -> list[tuple[str, str]]:
        return options.option_rules(config)

    def status_for(self, raw: str) -> str:
        """Our status for an inquiry status: the site's ``STATUS_OVERRIDES`` first, else ``STATUS_MAP``."""
        overrides = self.option("STATUS_OVERRIDES") or {}
        if raw in overrides:
            return str(overrides[raw])
        return self.map_status(raw)

    # --- configuration -------------------------------------------------------------------------------
    @cached_property
    def client(self) -> PersonaClient:
        """One client (one connection pool) per backend instance; the registry caches instances per alias."""
        headers = {
            "Authorization": f"Bearer {self.option('API_KEY')}",
            "Accept": "application/json",
            # kebab-case keys, whatever the organisation's default inflection: the keys this backend reads
            "Key-Inflection": "kebab",
        }
        if self.option("API_VERSION"):
            headers["Persona-Version"] = str(self.option("API_VERSION"))
        per_minute = int(self.option("RATE_LIMIT"))
        limiter = (
            RateLimiter(scope=self.alias, limits=(RateLimit(per_minute, WINDOW),), provider=self.provider)
            if per_minute
            else None
        )
        client = self.http_client(
            str(self.option("BASE_URL")),
            headers=headers,
            error_message=persona_error_message,
            client_class=PersonaClient,
            rate_limiter=limiter,
        )
        return cast(PersonaClient, client)

    @cached_property
    def webhook_secrets(self) -> list[bytes]:
        return as_secret_list(self.option("WEBHOOK_SECRETS"))

    def inquiry_attributes(self, verification: Verification) -> dict[str, Any]:
        """The create call's attributes: the template and the applicant's opaque reference as ``reference-id``
        (Persona groups an applicant's inquiries under one account by it), nothing personal; the expiry
        overrides when set."""
        template = str(self.option("TEMPLATE_ID"))
        attributes: dict[str, Any] = {
            options.template_attribute(template): template,
            "reference-id": verification.applicant.reference,
        }
        for option, attribute in (
            ("EXPIRATION_AFTER_CREATE_SECONDS", "expiration-after-create-interval-seconds"),
            ("EXPIRATION_AFTER_START_SECONDS", "expiration-after-start-interval-seconds"),
            ("EXPIRATION_AFTER_RESUME_SECONDS", "expiration-after-resume-interval-seconds"),
        ):
            if self.option(option) is not None:
                attributes[attribute] = int(self.option(option))
        return attributes

    # --- states and tokens ---------------------------------------------------------------------------
    def state_from(self, document: Mapping[str, Any], occurred_at: datetime | None = None) -> ProviderState:
        return inquiry_state(document, self.status_for, occurred_at)

    def token_for(self, document: Mapping[str, Any], requested_at: datetime) -> ClientToken:
        """A session token (``resume``) and a one-time link for an inquiry the person can still work on; an
        ``expired`` one is resumed first (Persona makes it ``pending`` again). Empty for any other status.

        Each POST carries an idempotency key derived from the inquiry, the status it was read in and the second
        of the request: a repeat of the same request reuses it, a later one (or one after a change) asks afresh."""
        inquiry_id = text(resource(document).get("id"))
        status = inquiry_status(document)
        if not inquiry_id or status not in statuses.RESUMABLE:
            return ClientToken()
        stamp = f"{inquiry_id}-{status}-{int(requested_at.timestamp())}"
        session_token = ""
        if self.option("SESSION_TOKEN") or status == "expired":
            try:
                answer = self.client.resume_inquiry(inquiry_id, f"django-kyc-resume-{stamp}")
            except PermanentProviderError as exc:
                if status != "created":
                    raise
                # Persona documents resuming pending and expired inquiries; a fresh one opens by its id alone
                logger.info("persona: inquiry %s not resumed while created (%s)", inquiry_id, exc.message)
            else:
                session_token = text(mapping(answer.get("meta")).get("session-token"))
        if not self.option("SESSION_TOKEN"):
            session_token = ""
        link = ""
        if self.option("ONE_TIME_LINK"):
            answer = self.client.one_time_link(inquiry_id, f"django-kyc-link-{stamp}")
            link = text(mapping(answer.get("meta")).get("one-time-link"))
        return client_token(
            session_token,
            link,
            requested_at,
            session_ttl=int(self.option("SESSION_TOKEN_TTL")),
            link_ttl=int(self.option("ONE_TIME_LINK_TTL")),
        )

    # --- verifications -------------------------------------------------------------------------------
    def start_verification(self, verification: Verification) -> Submission:
        """The verification's inquiry (held, replayed under its idempotency key, found again, or created), with
        a session token and a one-time link while the person has something to do."""
        requested_at = timezone.now()
        document = InquirySubmission(self, verification).inquiry()
        return Submission(
            state=self.state_from(document),
            provider_verification_id=text(resource(document).get("id")),
            client=self.token_for(document, requested_at),
        )

    def issue_client_token(self, verification: Verification) -> ClientToken:
        """A fresh session token and one-time link for the verification's inquiry (an expired one resumed).
        Empty once the inquiry needs nothing from the person, and before the submission task created it
        (creating one here would race that task)."""
        if not verification.provider_verification_id:
            return ClientToken()
        requested_at = timezone.now()
        return self.token_for(self.client.get_inquiry(verification.provider_verification_id), requested_at)

    def fetch_verification(self, verification: Verification) -> ProviderState:
        """``GET /inquiries/{id}`` (polling, and every webhook)."""
        if not verification.provider_verification_id:
            raise TransientProviderError(
                "the verification's Persona inquiry id is not recorded yet", provider=self.provider
            )
        return self.state_from(self.client.get_inquiry(verification.provider_verification_id))

    # --- webhooks ------------------------------------------------------------------------------------
    sign = staticmethod(webhooks.sign)

    def authenticate_webhook(self, webhook: InboundWebhook) -> None:
        webhooks.authenticate(webhook, self.webhook_secrets, float(self.option("WEBHOOK_TOLERANCE")))

    def parse_webhook(self, webhook: InboundWebhook) -> list[ProviderEvent]:
        return webhooks.parse(webhook)

    # --- data protection -------------------------------------------------------------------------------
    def delete_applicant(self, applicant: Applicant) -> None:
        """Redact every inquiry of the applicant's verifications through this alias (``DELETE
        /inquiries/{id}``: the inquiry's personal data, and its verifications' and reports', are deleted;
        irreversible). An inquiry already redacted, or unknown to this key's organisation, is left alone, so the
        erasure can be retried."""
        for verification in applicant.verifications.filter(backend=self.alias).exclude(provider_verification_id=""):
            inquiry_id = verification.provider_verification_id
            try:
                document = self.client.get_inquiry(inquiry_id)
            except PermanentProviderError as exc:
                if is_not_found(exc):
                    continue  # never at Persona under this key's organisation (or gone): nothing to redact
                raise
            if mapping(resource(document).get("attributes")).get("redacted-at") is not None:
                continue
            self.client.redact_inquiry(inquiry_id)
            logger.info("persona: inquiry %s redacted", inquiry_id)
