"""The KYCAID backend: its options, what it can do in each mode, and the contract methods.

The work is done next door: :mod:`.submission` (both integration modes), :mod:`.state` (answers and callbacks
as our states), :mod:`.webhooks` (signatures and callback types), :mod:`.client` (the endpoints) and
:mod:`.statuses` (the tables). Settings, unknowns and the defaults chosen for them are documented in
``docs/providers/kycaid.md``.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, cast

from django.utils.translation import gettext

from django_kyc.backends.base import (
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
from django_kyc.backends.kycaid import statuses, webhooks
from django_kyc.backends.kycaid.client import DEFAULT_BASE_URL, KycaidClient, kycaid_error_message
from django_kyc.backends.kycaid.state import document_result, verification_state
from django_kyc.backends.kycaid.statuses import DECLINE_POLICIES, QUALITY_REASONS, DeclinePolicy
from django_kyc.backends.kycaid.submission import KycaidSubmission
from django_kyc.backends.options import dictionary, secrets, strings
from django_kyc.backends.parsing import text
from django_kyc.backends.signing import as_secret_list
from django_kyc.exceptions import PermanentProviderError

if TYPE_CHECKING:
    from django_kyc.models import Verification

MODES = ("api", "form")


def _one_token(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(
            'must be one token (a string); list older tokens still accepted for callbacks in ["WEBHOOK_TOKENS"].'
        )
    return value


class KycaidBackend(KycBackend):
    """KYCAID API 2.0, in API mode (we send everything) or form mode (KYCAID's hosted form)."""

    provider = "kycaid"
    display_name = "KYCAID"
    #: What this backend can do at all; :meth:`supports` narrows it to the configured mode.
    capabilities = frozenset(
        {Capability.DOCUMENT_UPLOAD, Capability.HOSTED_FLOW, Capability.POLLING, Capability.WEBHOOKS}
    )
    capability_notes = {Capability.DOCUMENT_UPLOAD: '`MODE = "api"`', Capability.HOSTED_FLOW: '`MODE = "form"`'}
    option_specs = (
        Option(
            "API_TOKEN",
            "KYCAID's API token. Sent as `Authorization: Token <API_TOKEN>` on every call, and the key KYCAID "
            "signs callbacks with. One string (a list is a configuration error: see `WEBHOOK_TOKENS`).",
            coerce=_one_token,
            required=True,
            secret=True,
        ),
        Option(
            "WEBHOOK_TOKENS",
            "More tokens whose signatures are accepted on callbacks, for rotation: when you switch `API_TOKEN` to "
            "a new token, put the previous one here until callbacks signed with it have stopped arriving.",
            coerce=secrets,
            secret=True,
            default=(),
        ),
        Option(
            "FORM_ID",
            "Sent as `form_id` with `POST /verifications` (the verification inherits the form's checks) and used "
            "for `POST /forms/{form_id}/urls` in form mode.",
            required=True,
        ),
        Option(
            "BASE_URL",
            "KYCAID's API root. Point it at the fake server for tests and the demo.",
            url=True,
            default=DEFAULT_BASE_URL,
        ),
        Option(
            "CALLBACK_URL",
            "Absolute URL of this alias's webhook view (`https://<site>/kyc/webhooks/<alias>/`), sent as "
            "`callback_url` when a verification is created (API mode). Unset, KYCAID uses the callback URL of the "
            "form's Dashboard settings. In form mode the callback URL always comes from the form's Dashboard "
            "settings; set it there to the same URL.",
            url=True,
        ),
        Option("MODE", '`"api"` or `"form"`.', choices=MODES, default="api"),
        Option(
            "REDIRECT_URL",
            "Form mode: `redirect_url` of the form URL, where KYCAID sends the person after the form.",
            url=True,
        ),
        Option(
            "DECLINE_POLICY",
            'What `completed` + `verified: false` becomes: `"decline"` → `declined`; `"resubmit_quality"` → '
            "`resubmission_requested` when every decline reason is quality-type (see `QUALITY_REASONS`) and "
            "attempts are left, else `declined`.",
            choices=DECLINE_POLICIES,
            default="decline",
        ),
        Option(
            "QUALITY_REASONS",
            "The decline reasons a person can fix by sending better pictures.",
            coerce=strings,
            default_doc=", ".join(f"`{reason}`" for reason in sorted(QUALITY_REASONS)),
        ),
        Option(
            "DOCUMENT_TYPES",
            'Overrides of the document type mapping, e.g. `{"id_card": "DOMESTIC_PASSPORT", "other": '
            '"FINANCIAL_DOCUMENT"}`; a type mapped to `None` is not sent.',
            coerce=dictionary,
            default_doc="see below",
        ),
        Option(
            "DOCUMENT_UPDATE_METHOD",
            'The HTTP verb of "Update a document" (the reference does not state it).',
            default="PATCH",
        ),
    )
    STATUS_MAP: ClassVar[Mapping[Any, str]] = statuses.STATUS_MAP

    # --- options -------------------------------------------------------------------------------------
    def supports(self, capability: Capability | str) -> bool:
        if capability == Capability.HOSTED_FLOW:
            return bool(self.option("MODE") == "form")
        if capability == Capability.DOCUMENT_UPLOAD:
            return bool(self.option("MODE") == "api")
        return super().supports(capability)

    def document_type(self, our_type: str) -> str | None:
        return statuses.document_type(our_type, self.option("DOCUMENT_TYPES"))

    @cached_property
    def decline_policy(self) -> DeclinePolicy:
        configured = self.option("QUALITY_REASONS")
        quality = frozenset(str(r).upper() for r in configured) if configured else QUALITY_REASONS
        return DeclinePolicy(self.option("DECLINE_POLICY"), quality)

    @cached_property
    def webhook_keys(self) -> list[bytes]:
        """Every token a callback may be signed with: the API token first, then ``WEBHOOK_TOKENS``."""
        return as_secret_list([self.option("API_TOKEN"), *self.option("WEBHOOK_TOKENS")])

    @cached_property
    def client(self) -> KycaidClient:
        """One client (one connection pool) per backend instance; the registry caches instances per alias."""
        client = self.http_client(
            self.option("BASE_URL"),
            headers={"Authorization": f"Token {self.option('API_TOKEN')}", "Accept": "application/json"},
            error_message=kycaid_error_message,
            client_class=KycaidClient,
            update_method=str(self.option("DOCUMENT_UPDATE_METHOD")),
        )
        return cast(KycaidClient, client)

    # --- statuses ------------------------------------------------------------------------------------
    def status_keys(self, raw: str, *qualifiers: Any) -> Iterable[Hashable]:
        """``(status, verified)``; before completion the status alone counts."""
        return statuses.status_keys(raw, qualifiers[0] if qualifiers else None)

    def apply_decline_policy(self, status: str, reasons: Sequence[str], attempts_left: Any) -> str:
        return self.decline_policy.apply(status, reasons, attempts_left)

    def state_from(
        self,
        payload: Mapping[str, Any],
        *,
        status_key: str = "status",
        attempts_left: Any = None,
        applicant: Mapping[str, Any] | None = None,
    ) -> ProviderState:
        """A verification (an answer or a callback body) as our state, under this alias's decline policy."""
        return verification_state(
            payload,
            map_status=self.map_status,
            policy=self.decline_policy,
            status_key=status_key,
            attempts_left=attempts_left,
            applicant=applicant,
        )

    def document_result(self, doc: Mapping[str, Any], verification_status: str = "") -> DocumentResult:
        """One KYCAID document (``GET /documents/{id}``, or an applicant's ``documents[]``) as our result."""
        return document_result(doc, self.decline_policy, verification_status)

    # --- verifications -------------------------------------------------------------------------------
    def start_verification(self, verification: Verification) -> Submission:
        submission = KycaidSubmission(self, verification)
        return submission.form() if self.option("MODE") == "form" else submission.api()

    def issue_client_token(self, verification: Verification) -> ClientToken:
        """A new one-time form URL (form mode only; API-mode verifications have no hosted step)."""
        if self.option("MODE") != "form":
            raise self._unsupported(gettext("hosted-flow links in API mode (set MODE to 'form')"))
        return KycaidSubmission(self, verification).form_url()

    def fetch_verification(self, verification: Verification) -> ProviderState:
        """``GET /verifications/{id}``, plus ``GET /applicants/{id}`` once completed (document results)."""
        if not verification.provider_verification_id:
            raise PermanentProviderError("verification has no KYCAID verification id yet", provider=self.provider)
        payload = self.client.get_verification(verification.provider_verification_id)
        applicant: dict[str, Any] | None = None
        applicant_id = text(payload.get("applicant_id")) or verification.provider_applicant_id
        if text(payload.get("status")).lower() == "completed" and applicant_id:
            applicant = self.client.get_applicant(applicant_id)
        attempts = payload.get("verification_attempts_left", verification.provider_data.get("kycaid_attempts_left"))
        return self.state_from(payload, attempts_left=attempts, applicant=applicant)

    # --- webhooks ------------------------------------------------------------------------------------
    sign = staticmethod(webhooks.sign)

    def authenticate_webhook(self, webhook: InboundWebhook) -> None:
        webhooks.authenticate(webhook, self.webhook_keys)

    def parse_webhook(self, webhook: InboundWebhook) -> list[ProviderEvent]:
        return webhooks.parse(self, webhook)
