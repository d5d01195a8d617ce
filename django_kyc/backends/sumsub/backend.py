"""The Sumsub backend: its options, what it can do in each flow, and the contract methods.

The work is done next door: :mod:`.submission` (find or create the applicant, then the WebSDK token or the
documents and the check), :mod:`.state` (reviews as our states), :mod:`.webhooks` (digests and deliveries),
:mod:`.client` (request signing and the endpoints) and :mod:`.statuses` (the tables). Settings, unknowns and
the defaults chosen for them are documented in ``docs/providers/sumsub.md``.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import replace
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, cast

from django.utils.translation import gettext

from django_kyc.backends.base import (
    Capability,
    ClientToken,
    InboundWebhook,
    KycBackend,
    Option,
    ProviderEvent,
    ProviderState,
    Submission,
)
from django_kyc.backends.options import boolean, dictionary, integer, secrets
from django_kyc.backends.parsing import mapping, text
from django_kyc.backends.ratelimit import RateLimit, RateLimiter
from django_kyc.backends.sumsub import statuses, webhooks
from django_kyc.backends.sumsub.client import DEFAULT_BASE_URL, PROVIDER, SumsubClient, sumsub_error_message
from django_kyc.backends.sumsub.state import document_results, review_state
from django_kyc.backends.sumsub.submission import SumsubSubmission, document_country, documents_to_send
from django_kyc.exceptions import PermanentProviderError
from django_kyc.status import VerificationStatus

if TYPE_CHECKING:
    from django_kyc.models import Applicant, Document, Verification

MODES = ("sdk", "api")
#: Sumsub's default limits: 300 ``GET`` and 50 ``POST`` requests per 5 seconds.
DEFAULT_GETS, DEFAULT_POSTS, WINDOW = 300, 50, 5


class SumsubBackend(KycBackend):
    """Sumsub applicants for a level, through the WebSDK (``MODE = "sdk"``) or our own documents (``"api"``)."""

    provider = PROVIDER
    display_name = "Sumsub"
    #: What this backend can do at all; :meth:`supports` narrows it to the configured flow.
    capabilities = frozenset(
        {
            Capability.DOCUMENT_UPLOAD,
            Capability.HOSTED_FLOW,
            Capability.POLLING,
            Capability.WEBHOOKS,
            Capability.PUSH_DECISION,
        }
    )
    capability_notes = {
        Capability.DOCUMENT_UPLOAD: '`MODE = "api"`',
        Capability.HOSTED_FLOW: '`MODE = "sdk"`',
        Capability.PUSH_DECISION: "`PUSH_DECISIONS`",
    }
    option_specs = (
        Option(
            "APP_TOKEN",
            "The app token, sent as `X-App-Token` (sandbox tokens start with `sbx:`).",
            required=True,
            secret=True,
        ),
        Option(
            "SECRET_KEY",
            "The app token's secret key: every request is signed with it (`X-App-Access-Sig`).",
            required=True,
            secret=True,
        ),
        Option(
            "WEBHOOK_SECRETS",
            "The webhook's secret key from Sumsub's Webhook manager (not the app token's), or a list of them, "
            "newest first: deliveries signed with any are accepted, for rotation.",
            coerce=secrets,
            required=True,
            secret=True,
        ),
        Option(
            "LEVEL_NAME",
            "The verification level applicants are created for and access tokens issued for (case-sensitive, "
            "as named in the Dashboard of the token's environment).",
            required=True,
        ),
        Option(
            "MODE",
            '`"sdk"` (the WebSDK captures everything) or `"api"` (we send our documents).',
            choices=MODES,
            default="sdk",
        ),
        Option(
            "BASE_URL",
            "Sumsub's API root. Point it at the fake server for tests and the demo.",
            url=True,
            default=DEFAULT_BASE_URL,
        ),
        Option(
            "TOKEN_TTL",
            "Seconds a WebSDK access token lives (`ttlInSecs`); the reissue endpoint mints a new one after.",
            coerce=integer(minimum=60, maximum=86400),
            default=600,
        ),
        Option(
            "WEBHOOK_DEFAULT_ALGORITHM",
            "The digest algorithm assumed when a delivery carries no `X-Payload-Digest-Alg` (Sumsub's docs and its "
            "own examples disagree on the default).",
            choices=tuple(webhooks.ALGORITHMS),
            default="HMAC_SHA256_HEX",
        ),
        Option(
            "SEND_FIXED_INFO",
            "Send the applicant's name, date of birth and countries as `fixedInfo` when creating the Sumsub "
            "applicant, for Sumsub to compare with the documents. Turn it on only for a level with the Applicant "
            "data step, which Sumsub requires for `fixedInfo`.",
            coerce=boolean,
            default=False,
        ),
        Option(
            "DOCUMENT_TYPES",
            'Overrides of the document type mapping, e.g. `{"other": "OTHER"}`; a type mapped to `None` is refused.',
            coerce=dictionary,
            default_doc='see "API flow"',
        ),
        Option(
            "REQUIRE_BOTH_SIDES",
            "API mode: refuse an ID card, driving licence or residence permit without a back side (Sumsub does "
            "not complete the step until both sides are sent, unless the level accepts one side).",
            coerce=boolean,
            default=True,
        ),
        Option(
            "CHECK_REASON", "API mode: the `reason` sent when requesting the check.", default="django-kyc submission"
        ),
        Option("PUSH_DECISIONS", "Send reviewers' approvals and rejections to Sumsub.", coerce=boolean, default=False),
        Option(
            "RATE_LIMIT_GET",
            "`GET` requests per 5 seconds this alias sends Sumsub at most, across every worker (Sumsub's default "
            "limit; raise it when Sumsub has raised yours).",
            coerce=integer(minimum=1),
            default=DEFAULT_GETS,
        ),
        Option(
            "RATE_LIMIT_POST",
            "`POST` requests per 5 seconds this alias sends Sumsub at most, across every worker.",
            coerce=integer(minimum=1),
            default=DEFAULT_POSTS,
        ),
    )
    STATUS_MAP: ClassVar[Mapping[Any, str]] = statuses.STATUS_MAP
    #: Sumsub's default budgets per app token (https://docs.sumsub.com/reference/rate-limits), shared by every
    #: worker through the rate limiter's cache; ``RATE_LIMIT_GET`` / ``RATE_LIMIT_POST`` are what the client uses.
    rate_limits = (RateLimit(DEFAULT_GETS, WINDOW, ("GET",)), RateLimit(DEFAULT_POSTS, WINDOW, ("POST",)))

    # --- options -------------------------------------------------------------------------------------
    def supports(self, capability: Capability | str) -> bool:
        if capability == Capability.HOSTED_FLOW:
            return bool(self.option("MODE") == "sdk")
        if capability == Capability.DOCUMENT_UPLOAD:
            return bool(self.option("MODE") == "api")
        return super().supports(capability)

    @cached_property
    def client(self) -> SumsubClient:
        """One client (one connection pool) per backend instance; the registry caches instances per alias."""
        limits = (
            RateLimit(int(self.option("RATE_LIMIT_GET")), WINDOW, ("GET",)),
            RateLimit(int(self.option("RATE_LIMIT_POST")), WINDOW, ("POST",)),
        )
        client = self.http_client(
            str(self.option("BASE_URL")),
            error_message=sumsub_error_message,
            client_class=SumsubClient,
            app_token=str(self.option("APP_TOKEN")),
            secret_key=str(self.option("SECRET_KEY")),
            rate_limiter=RateLimiter(scope=self.alias, limits=limits, provider=self.provider),
        )
        return cast(SumsubClient, client)

    def status_keys(self, raw: str, *qualifiers: Any) -> Iterable[Hashable]:
        """``(reviewStatus, reviewAnswer, reviewRejectType)``; before ``completed`` the status alone counts."""
        verdict = qualifiers[0] if qualifiers else None
        reject_type = qualifiers[1] if len(qualifiers) > 1 else None
        return statuses.status_keys(raw, verdict, reject_type)

    def document_type(self, our_type: str) -> str | None:
        return statuses.document_type(our_type, self.option("DOCUMENT_TYPES"))

    # --- documents -----------------------------------------------------------------------------------
    def check_document(self, document: Document) -> None:
        """Refuse, before anything is sent, a document Sumsub will not take, with Sumsub's rule."""
        id_doc_type = self.document_type(document.type)
        if not id_doc_type:
            raise PermanentProviderError(
                gettext(
                    'Sumsub has no document type for %(type)s documents; map it in OPTIONS["DOCUMENT_TYPES"] or '
                    "upload a passport, ID card, driving licence or residence permit."
                )
                % {"type": repr(document.type)},
                provider=self.provider,
            )
        if not document_country(document, id_doc_type):
            message = (
                gettext(
                    "Sumsub needs the issuing country of every document (idDocType and country are mandatory); "
                    "the %(type)s has %(country)s."
                )
                if document.issuing_country
                else gettext(
                    "Sumsub needs the issuing country of every document (idDocType and country are mandatory); "
                    "the %(type)s has none."
                )
            )
            raise PermanentProviderError(
                message % {"type": document.type, "country": repr(document.issuing_country)},
                provider=self.provider,
            )
        if id_doc_type in statuses.TWO_SIDED and self.option("REQUIRE_BOTH_SIDES"):
            sides = {row.side for row in document.files.all()}
            if "back" not in sides:
                raise PermanentProviderError(
                    gettext(
                        "Sumsub completes a two-sided %(sumsub_type)s only with both sides (FRONT_SIDE and "
                        "BACK_SIDE); upload the %(type)s again with its back side."
                    )
                    % {"sumsub_type": id_doc_type, "type": document.type},
                    provider=self.provider,
                )

    def check_verification_subject(self, applicant: Applicant) -> None:
        """API mode: every document that would be sent must be one Sumsub takes."""
        if self.option("MODE") == "api":
            for document in documents_to_send(applicant):
                self.check_document(document)

    # --- verifications -------------------------------------------------------------------------------
    def start_verification(self, verification: Verification) -> Submission:
        submission = SumsubSubmission(self, verification)
        return submission.sdk() if self.option("MODE") == "sdk" else submission.api()

    def issue_client_token(self, verification: Verification) -> ClientToken:
        """A new WebSDK access token for the held applicant; empty before the submission task created it
        (making one here would race that task)."""
        if self.option("MODE") != "sdk":
            raise self._unsupported(gettext('WebSDK tokens in API mode (set MODE to "sdk")'))
        if not verification.provider_applicant_id:
            return ClientToken()
        return SumsubSubmission(self, verification).access_token()

    def fetch_verification(self, verification: Verification) -> ProviderState:
        """``GET /resources/applicants/{id}/status``: the review of the current attempt; once it is completed,
        ``GET …/requiredIdDocsStatus`` too, for each step's verdict on its documents."""
        applicant_id = verification.provider_applicant_id or verification.provider_verification_id
        if not applicant_id:
            raise PermanentProviderError("the verification has no Sumsub applicant yet", provider=self.provider)
        review = self.client.review_status(applicant_id)
        state = review_state(review, self.map_status)
        if text(review.get("reviewStatus")) != "completed":
            return state
        ours = mapping(verification.provider_data.get("sumsub_image_documents"))
        steps = self.client.required_id_docs_status(applicant_id)
        return replace(state, documents=document_results(steps, {str(k): str(v) for k, v in ours.items()}))

    def push_decision(self, verification: Verification, status: str, reason: str = "", reason_code: str = "") -> None:
        """An approval or a rejection by our reviewer, as Sumsub's approve / reject (a rejection is ``FINAL``
        there); other decisions have no Sumsub counterpart and are not sent."""
        applicant_id = verification.provider_applicant_id
        note = " ".join(part for part in (reason_code, reason) if part)[:1000]
        if not applicant_id:
            return
        if status == VerificationStatus.APPROVED:
            self.client.approve(applicant_id, note)
        elif status == VerificationStatus.DECLINED:
            self.client.reject(applicant_id, note)

    # --- webhooks ------------------------------------------------------------------------------------
    sign = staticmethod(webhooks.sign)

    def authenticate_webhook(self, webhook: InboundWebhook) -> None:
        webhooks.authenticate(webhook, self.option("WEBHOOK_SECRETS"), str(self.option("WEBHOOK_DEFAULT_ALGORITHM")))

    def parse_webhook(self, webhook: InboundWebhook) -> list[ProviderEvent]:
        return webhooks.parse(webhook)
