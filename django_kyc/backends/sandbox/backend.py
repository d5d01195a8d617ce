"""The sandbox backend: the contract, its options, outcomes and signed webhooks (the rules are in
:mod:`.rules`, the back office that sends decisions in :mod:`.delivery`)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.core import signing as django_signing
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac

from django_kyc.backends.base import (
    AmlResult,
    Capability,
    ClientToken,
    DocumentResult,
    InboundWebhook,
    KycBackend,
    Option,
    ProviderEvent,
    ProviderState,
    Submission,
)
from django_kyc.backends.options import boolean, integer, number, secrets
from django_kyc.backends.sandbox import rules
from django_kyc.backends.signing import sign_timestamped, verify_timestamped
from django_kyc.exceptions import (
    PermanentProviderError,
    TransientProviderError,
    WebhookPayloadError,
)
from django_kyc.status import DocumentStatus, VerificationStatus

if TYPE_CHECKING:
    from django_kyc.models import AmlCheck, Applicant, Verification

logger = logging.getLogger("django_kyc.sandbox")

SIGNATURE_HEADER = "X-Sandbox-Signature"
TOKEN_SALT = "django_kyc.sandbox.capture"  # noqa: S105 - a signing salt (a namespace), not a secret


class SandboxBackend(KycBackend):
    """The sandbox "provider" (options: ``option_specs``, documented in ``docs/providers/sandbox.md``)."""

    provider = "sandbox"
    display_name = "Sandbox"
    capabilities = frozenset(
        {
            Capability.DOCUMENT_UPLOAD,
            Capability.HOSTED_FLOW,
            Capability.POLLING,
            Capability.AML,
            Capability.CRYPTO_AML,
            Capability.WEBHOOKS,
            Capability.DELETE,
        }
    )
    capability_notes = {Capability.HOSTED_FLOW: "local capture page", Capability.DELETE: "logs only"}
    option_specs = (
        Option(
            "HOSTED_FLOW",
            "Start verifications in `awaiting_user` with a link to the capture page instead of deciding on the "
            "uploaded documents.",
            coerce=boolean,
            default=False,
        ),
        Option(
            "DECISION_DELAY",
            "Seconds the sandbox waits before it sends the decision (the wait happens in a django-q2 worker, at "
            "most 30 s).",
            coerce=number(minimum=0),
            default=2.0,
        ),
        Option(
            "WEBHOOK_SECRET",
            "One secret or a list, newest first. Deliveries are signed with the first and accepted with any of "
            'them. The default is `salted_hmac("django_kyc.sandbox.webhook", alias, SECRET_KEY).hexdigest()`, '
            "so it differs per alias and changes with `SECRET_KEY`.",
            coerce=secrets,
            secret=True,
            default_doc="derived",
        ),
        Option(
            "WEBHOOK_URL",
            "Where to POST deliveries over HTTP (normally this site's `/kyc/webhooks/<alias>/`). Unset, "
            "deliveries are handed to `django_kyc.services.webhooks.receive` in process, the same function the "
            "webhook view calls.",
            url=True,
        ),
        Option(
            "TOLERANCE",
            "Seconds a signature timestamp may be away from the clock before the delivery is refused.",
            coerce=number(minimum=0),
            default=300.0,
        ),
        Option(
            "CLIENT_TOKEN_TTL",
            "Lifetime in seconds reported for hosted-flow links (`client_token_expires_at`).",
            coerce=integer(minimum=1),
            default=3600,
        ),
        Option(
            "PUBLIC_BASE_URL",
            "Prefix for hosted-flow links, for example `https://example.com`; empty gives a path relative to the site.",
            url=True,
            default="",
        ),
        Option(
            "CAPTURE_PAGE",
            "Serve the hosted capture page (which lets the link holder pick the outcome) while `DEBUG` is off, "
            "for a test environment.",
            coerce=boolean,
            default=False,
        ),
    )

    #: The sandbox's own raw status vocabulary, mapped like any provider's. Unknown values go to review.
    STATUS_MAP: ClassVar[Mapping[str, str]] = {
        "awaiting_input": VerificationStatus.AWAITING_USER,
        "processing": VerificationStatus.PROCESSING,
        "needs_review": VerificationStatus.REVIEW,
        "resubmission_requested": VerificationStatus.RESUBMISSION_REQUESTED,
        "approved": VerificationStatus.APPROVED,
        "declined": VerificationStatus.DECLINED,
        "expired": VerificationStatus.EXPIRED,
    }

    #: last-name keyword -> (raw decision status, verification reasons, document status, document reasons)
    OUTCOMES: ClassVar[Sequence[tuple[str, str, tuple[str, ...], str, tuple[str, ...]]]] = (
        (rules.DECLINE.keyword, "declined", ("DOCUMENT_TAMPERED",), DocumentStatus.REJECTED, ("DOCUMENT_TAMPERED",)),
        (rules.REVIEW.keyword, "needs_review", (), DocumentStatus.ACCEPTED, ()),
        (
            rules.RESUBMIT.keyword,
            "resubmission_requested",
            ("DOCUMENT_UNREADABLE",),
            DocumentStatus.RESUBMISSION_REQUESTED,
            ("DOCUMENT_UNREADABLE",),
        ),
    )
    DEFAULT_OUTCOME = ("", "approved", (), DocumentStatus.ACCEPTED, ())

    # --- options -------------------------------------------------------------------------------------
    @property
    def secrets(self) -> list[bytes]:
        configured: list[bytes] = self.option("WEBHOOK_SECRET") or []
        if configured:
            return configured
        return [salted_hmac("django_kyc.sandbox.webhook", self.alias, settings.SECRET_KEY).hexdigest().encode()]

    @property
    def client_token_ttl(self) -> int:
        return int(self.option("CLIENT_TOKEN_TTL"))

    @property
    def decision_delay(self) -> float:
        return float(self.option("DECISION_DELAY"))

    # --- outcome rules -------------------------------------------------------------------------------
    @staticmethod
    def _keyword(applicant: Applicant) -> str:
        return (applicant.last_name or "").lower()

    def outcome_for(
        self, applicant: Applicant, chosen: str = ""
    ) -> tuple[str, str, tuple[str, ...], str, tuple[str, ...]]:
        if chosen:
            for outcome in (*self.OUTCOMES, self.DEFAULT_OUTCOME):
                if outcome[1] == chosen:
                    return outcome
        name = self._keyword(applicant)
        for outcome in self.OUTCOMES:
            if outcome[0] in name:
                return outcome
        return self.DEFAULT_OUTCOME

    def decided_state(
        self, verification: Verification, chosen: str = "", when: datetime | None = None
    ) -> ProviderState:
        _, raw, reasons, doc_status, doc_reasons = self.outcome_for(verification.applicant, chosen)
        documents = [
            DocumentResult(status=doc_status, document_id=str(pk), reasons=doc_reasons)
            for pk in verification.applicant.documents.exclude(status=DocumentStatus.PURGED).values_list(
                "pk", flat=True
            )
        ]
        return ProviderState(
            status=self.map_status(raw),
            provider_status=raw,
            reasons=reasons,
            occurred_at=when or timezone.now(),
            documents=documents,
            data={"sandbox": {"rule": self._keyword(verification.applicant) or "default"}},
        )

    # --- contract ------------------------------------------------------------------------------------
    def provider_ids(self, verification: Verification) -> tuple[str, str]:
        """Derived from our ids, so a repeated submission finds the same provider applicant."""
        return (
            f"sbx_app_{rules.short_hash(verification.applicant.reference)}",
            f"sbx_ver_{rules.short_hash(str(verification.pk))}",
        )

    def start_verification(self, verification: Verification) -> Submission:
        applicant = verification.applicant
        if rules.ERROR.matches(applicant):
            raise PermanentProviderError(
                "applicant rejected by the sandbox 'error' rule", provider=self.provider, status_code=400
            )
        if rules.FLAKY.matches(applicant) and verification.attempts <= 2:
            raise TransientProviderError("simulated outage", provider=self.provider, status_code=503)
        applicant_id, verification_id = self.provider_ids(verification)
        if self.option("HOSTED_FLOW"):
            return Submission(
                state=ProviderState(status=VerificationStatus.AWAITING_USER, provider_status="awaiting_input"),
                provider_applicant_id=applicant_id,
                provider_verification_id=verification_id,
                client=self.issue_client_token(verification),
            )
        if not rules.SILENT.matches(applicant):
            self.schedule_decision(verification)
        return Submission(
            state=ProviderState(status=VerificationStatus.PROCESSING, provider_status="processing"),
            provider_applicant_id=applicant_id,
            provider_verification_id=verification_id,
        )

    def schedule_decision(self, verification: Verification, chosen: str = "") -> None:
        from django_kyc.queue import enqueue_on_commit

        enqueue_on_commit("deliver_sandbox_decision", self.alias, str(verification.pk), chosen)

    def fetch_verification(self, verification: Verification) -> ProviderState:
        if verification.status == VerificationStatus.AWAITING_USER:
            return ProviderState(status=VerificationStatus.AWAITING_USER, provider_status="awaiting_input")
        submitted = verification.submitted_at or verification.created_at
        if timezone.now() < submitted + timedelta(seconds=self.decision_delay):
            return ProviderState(status=VerificationStatus.PROCESSING, provider_status="processing")
        return self.decided_state(verification, when=submitted + timedelta(seconds=self.decision_delay))

    def issue_client_token(self, verification: Verification) -> ClientToken:
        ttl = self.client_token_ttl
        token = django_signing.dumps({"v": str(verification.pk), "a": self.alias}, salt=TOKEN_SALT)
        try:
            path = reverse("django_kyc:sandbox-capture", kwargs={"token": token})
        except NoReverseMatch:
            path = ""
        base = str(self.option("PUBLIC_BASE_URL")).rstrip("/")
        return ClientToken(token=token, link=f"{base}{path}", expires_at=timezone.now() + timedelta(seconds=ttl))

    def screen(self, aml_check: AmlCheck) -> AmlResult:
        return rules.screen(aml_check)

    def delete_applicant(self, applicant: Applicant) -> None:
        logger.info("sandbox: applicant %s deleted at the provider", applicant.pk)

    # --- webhooks ------------------------------------------------------------------------------------
    def sign(self, body: bytes, timestamp: int | None = None, secret: bytes | None = None) -> str:
        """The signature header value for ``body``: ``t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>``."""
        stamp = int(time.time()) if timestamp is None else timestamp
        return sign_timestamped(secret or self.secrets[0], body, stamp, "v1")

    def authenticate_webhook(self, webhook: InboundWebhook) -> None:
        header = webhook.signature_header(SIGNATURE_HEADER)
        verify_timestamped(header, webhook.body, self.secrets, tolerance=self.option("TOLERANCE"), signature_key="v1")

    def parse_webhook(self, webhook: InboundWebhook) -> list[ProviderEvent]:
        payload = webhook.json_object("malformed sandbox event: the body")
        try:
            event_id = str(payload["event_id"])
            raw_status = str(payload["status"])
            occurred_at = datetime.fromisoformat(str(payload["occurred_at"]))
            reasons = payload.get("reasons", [])
            raw_documents = payload.get("documents", [])
            data = payload.get("data", {})
            if not (isinstance(reasons, list) and isinstance(raw_documents, list) and isinstance(data, dict)):
                raise TypeError("reasons and documents must be lists, data an object")
            documents = [
                DocumentResult(
                    status=str(doc["status"]),
                    document_id=str(doc["id"]),
                    reasons=tuple(str(r) for r in doc.get("reasons", ())),
                )
                for doc in raw_documents
                if isinstance(doc, dict) and "id" in doc and "status" in doc
            ]
        except (ValueError, KeyError, TypeError) as exc:
            raise WebhookPayloadError(f"malformed sandbox event: {type(exc).__name__}") from exc
        if timezone.is_naive(occurred_at):
            occurred_at = occurred_at.replace(tzinfo=dt_timezone.utc)
        state = ProviderState(
            status=self.map_status(raw_status),
            provider_status=raw_status,
            reasons=tuple(str(r) for r in reasons),
            occurred_at=occurred_at,
            documents=documents,
            data={"sandbox": data},
        )
        return [
            ProviderEvent(
                event_id=event_id,
                event_type=str(payload.get("type", "verification.updated")),
                provider_ref=str(payload.get("verification_id", "")),
                our_ref=str(payload.get("reference", "")),
                occurred_at=occurred_at,
                state=state,
            )
        ]

    def build_event(self, verification: Verification, state: ProviderState) -> bytes:
        """The JSON body the sandbox "provider" sends for a state change."""
        _, provider_ref = self.provider_ids(verification)
        occurred = state.occurred_at or timezone.now()
        payload: dict[str, Any] = {
            "event_id": f"sbx_evt_{rules.short_hash(str(verification.pk), state.provider_status)}",
            "type": "verification.updated",
            "verification_id": provider_ref,
            "reference": str(verification.pk),
            "status": state.provider_status,
            "reasons": list(state.reasons),
            "documents": [
                {"id": doc.document_id, "status": doc.status, "reasons": list(doc.reasons)} for doc in state.documents
            ],
            "occurred_at": occurred.isoformat(),
            "data": dict(state.data).get("sandbox", {}),
        }
        return json.dumps(payload, separators=(",", ":")).encode()

    def deliver(self, body: bytes) -> None:
        """Send a signed event: over HTTP to ``WEBHOOK_URL`` if set, else in process through the same inbox."""
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: self.sign(body)}
        url = self.option("WEBHOOK_URL")
        if url:
            self.http_client(url).post(url, data=body, headers=headers)
            return
        from django_kyc.services.webhooks import receive

        receive(self.alias, InboundWebhook(body=body, headers=headers))


def load_capture_token(token: str, max_age: int | None) -> dict[str, str]:
    data: dict[str, str] = django_signing.loads(token, salt=TOKEN_SALT, max_age=max_age)
    return data
