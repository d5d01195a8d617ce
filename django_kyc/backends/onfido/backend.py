"""The Onfido backend: its declarations, the client, and the contract methods.

The work is done next door: :mod:`.submission` (the three modes), :mod:`.state` (runs and checks as our states),
:mod:`.webhooks` (signatures, which object a delivery names), :mod:`.aml` (watchlist reports), :mod:`.client`
(the endpoints) and :mod:`.statuses` (the tables). Settings, Onfido's open points and the defaults chosen for
them are in ``docs/providers/onfido.md``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, cast

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from django_kyc.backends.base import (
    AmlResult,
    Capability,
    ClientToken,
    InboundWebhook,
    KycBackend,
    ProviderEvent,
    ProviderState,
    Submission,
)
from django_kyc.backends.onfido import aml, options, statuses, webhooks
from django_kyc.backends.onfido.client import PROVIDER, OnfidoClient, onfido_error_message, region_url
from django_kyc.backends.onfido.state import check_state, run_state
from django_kyc.backends.onfido.submission import NOT_SENT, OnfidoSubmission
from django_kyc.backends.onfido.tokens import token_expiry
from django_kyc.backends.parsing import mapping, text
from django_kyc.backends.ratelimit import RateLimit, RateLimiter
from django_kyc.backends.signing import as_secret_list
from django_kyc.exceptions import PermanentProviderError

if TYPE_CHECKING:
    from django_kyc.models import AmlCheck, Applicant, Verification

logger = logging.getLogger("django_kyc.onfido")

#: Onfido's rule for applicant names (``first_name`` / ``last_name``): none of these characters.
FORBIDDEN_NAME_CHARACTERS = '!#$%*=<>;{}"'


class OnfidoBackend(KycBackend):
    """Onfido (Entrust Identity Verification) API v3.6: Studio workflow runs, the classic SDK token, or our
    documents and a check; watchlist AML; deletion that can be undone."""

    provider = PROVIDER
    display_name = "Onfido / Entrust"
    capabilities = frozenset(
        {
            Capability.HOSTED_FLOW,
            Capability.DOCUMENT_UPLOAD,
            Capability.WEBHOOKS,
            Capability.POLLING,
            Capability.AML,
            Capability.DELETE,
        }
    )
    capability_notes = {
        Capability.HOSTED_FLOW: '`MODE = "workflow"` or `"sdk"`',
        Capability.DOCUMENT_UPLOAD: '`MODE = "api"`',
        Capability.DELETE: "scheduled, can be restored",
    }
    option_specs = options.OPTION_SPECS
    #: Onfido's per-account budget (``OPTIONS["RATE_LIMIT"]`` per minute; this is its default).
    rate_limits: ClassVar[tuple[RateLimit, ...]] = (RateLimit(options.DEFAULT_RATE_LIMIT, 60),)
    #: Workflow run statuses; checks are read through :func:`.statuses.check_status` (a status and a result).
    STATUS_MAP: ClassVar[Mapping[str, str]] = statuses.WORKFLOW_RUN_STATUS

    @classmethod
    def option_rules(cls, config: Mapping[str, Any]) -> list[tuple[str, str]]:
        return options.option_rules(config)

    def supports(self, capability: Capability | str) -> bool:
        if capability == Capability.HOSTED_FLOW:
            return bool(self.option("MODE") in ("workflow", "sdk"))
        if capability == Capability.DOCUMENT_UPLOAD:
            return bool(self.option("MODE") == "api")
        return super().supports(capability)

    # --- configuration -------------------------------------------------------------------------------
    @cached_property
    def client(self) -> OnfidoClient:
        """One client (one connection pool) per backend instance; the registry caches instances per alias."""
        base_url = self.option("BASE_URL") or region_url(self.option("REGION"))
        limiter = RateLimiter(
            scope=self.alias, limits=(RateLimit(int(self.option("RATE_LIMIT")), 60),), provider=self.provider
        )
        client = self.http_client(
            base_url,
            headers={"Authorization": f"Token token={self.option('API_TOKEN')}", "Accept": "application/json"},
            error_message=onfido_error_message,
            client_class=OnfidoClient,
            rate_limiter=limiter,
        )
        return cast(OnfidoClient, client)

    @cached_property
    def webhook_tokens(self) -> list[bytes]:
        return as_secret_list(self.option("WEBHOOK_TOKENS"))

    @property
    def sdk_token_ttl(self) -> float:
        return float(self.option("SDK_TOKEN_TTL"))

    def document_type(self, our_type: str) -> str | None:
        return statuses.document_type(our_type, self.option("DOCUMENT_TYPES"))

    # --- refusing early ------------------------------------------------------------------------------
    def check_verification_subject(self, applicant: Applicant) -> None:
        """Refuse, before a verification is stored, a person Onfido cannot take: names it requires or refuses,
        and in api mode a document file outside its rules (JPG, PNG or PDF, 2 KB to 3 MB)."""
        # the messages reach the applicant (the API answers 400 with them): in the request's language
        names = (
            (_("Onfido requires the applicant's first name"), _("first name"), applicant.first_name),
            (_("Onfido requires the applicant's last name"), _("last name"), applicant.last_name),
        )
        for required, label, name in names:
            if not name.strip():
                raise PermanentProviderError(str(required), provider=self.provider)
            bad = sorted({c for c in name if c in FORBIDDEN_NAME_CHARACTERS})
            if bad:
                raise PermanentProviderError(
                    ngettext(
                        "Onfido refuses the character %(characters)s in a %(field)s (none of %(forbidden)s is allowed)",
                        "Onfido refuses the characters %(characters)s in a %(field)s (none of %(forbidden)s is "
                        "allowed)",
                        len(bad),
                    )
                    % {"characters": " ".join(bad), "field": label, "forbidden": FORBIDDEN_NAME_CHARACTERS},
                    provider=self.provider,
                )
        if self.option("MODE") != "api":
            return
        sendable = False
        for document in applicant.documents.exclude(status__in=NOT_SENT).prefetch_related("files"):
            if not self.document_type(document.type):
                continue
            for row in document.files.all():
                problem = statuses.file_problem(row.content_type, row.size)
                if problem:
                    raise PermanentProviderError(
                        _("document %(document)s (%(type)s, %(side)s): %(problem)s")
                        % {"document": document.pk, "type": document.type, "side": row.side, "problem": problem},
                        provider=self.provider,
                    )
                sendable = True
        if not sendable:
            raise PermanentProviderError(
                _("Onfido needs an identity document: upload one before starting the verification"),
                provider=self.provider,
            )

    # --- verifications -------------------------------------------------------------------------------
    def start_verification(self, verification: Verification) -> Submission:
        submission = OnfidoSubmission(self, verification)
        mode = self.option("MODE")
        if mode == "workflow":
            return submission.workflow()
        if mode == "sdk":
            return submission.sdk()
        return submission.api()

    def sdk_client(self, applicant_id: str, run: Mapping[str, Any] | None = None) -> ClientToken:
        """A classic SDK token for the applicant (``POST /sdk_token``), with a run's link when there is one."""
        requested = timezone.now()
        token = self.client.sdk_token(applicant_id, referrer=str(self.option("SDK_REFERRER") or ""))
        link = text(mapping(mapping(run).get("link")).get("url")) if run else ""
        return ClientToken(token=token, link=link, expires_at=token_expiry(token, self.sdk_token_ttl, requested))

    def issue_client_token(self, verification: Verification) -> ClientToken:
        """A fresh SDK token (and, in workflow mode, the run's link); empty before the submission task created
        the applicant (making one here would race that task)."""
        if not verification.provider_applicant_id:
            return ClientToken()
        run = None
        if self.option("MODE") == "workflow" and verification.provider_verification_id:
            run = self.client.get_workflow_run(verification.provider_verification_id)
        return self.sdk_client(verification.provider_applicant_id, run)

    def fetch_verification(self, verification: Verification) -> ProviderState:
        """The run (workflow mode) or the check and its reports; in sdk mode before a check exists, the check
        is created once the person's documents are at Onfido."""
        ref = verification.provider_verification_id
        if self.option("MODE") == "workflow":
            if not ref:
                raise PermanentProviderError("verification has no Onfido workflow run yet", provider=self.provider)
            return run_state(self.client.get_workflow_run(ref))
        if not ref:
            if self.option("MODE") == "sdk":
                return OnfidoSubmission(self, verification).check_when_ready()
            raise PermanentProviderError("verification has no Onfido check yet", provider=self.provider)
        check = self.client.get_check(ref)
        reports = self.client.list_reports(ref) if text(check.get("status")) == statuses.COMPLETE else []
        return check_state(check, reports, self.option("CONSIDER"))

    # --- webhooks ------------------------------------------------------------------------------------
    sign = staticmethod(webhooks.sign)

    def authenticate_webhook(self, webhook: InboundWebhook) -> None:
        webhooks.authenticate(webhook, self.webhook_tokens, str(self.option("WEBHOOK_HEADER")))

    def parse_webhook(self, webhook: InboundWebhook) -> list[ProviderEvent]:
        mode = "workflow" if self.option("MODE") == "workflow" else "classic"
        return webhooks.parse(webhook, webhooks.DECIDING[mode])

    # --- AML -----------------------------------------------------------------------------------------
    def check_aml_subject(self, aml_check: AmlCheck) -> None:
        from django_kyc.models.aml import AmlSubject

        if aml_check.subject != AmlSubject.APPLICANT:
            raise PermanentProviderError("Onfido screens people, not wallets", provider=self.provider)
        applicant = aml_check.applicant
        if not (applicant.first_name.strip() and applicant.last_name.strip()):
            raise PermanentProviderError(
                "Onfido requires the applicant's first and last name to screen them", provider=self.provider
            )

    def screen(self, aml_check: AmlCheck) -> AmlResult:
        return aml.screen(self, aml_check)

    def fetch_aml(self, aml_check: AmlCheck) -> AmlResult:
        return aml.fetch(self, aml_check)

    # --- data protection -----------------------------------------------------------------------------
    def onfido_applicants(self, applicant: Applicant) -> list[str]:
        """Every Onfido applicant held for ``applicant`` through this alias (verifications and AML checks)."""
        held = applicant.verifications.filter(backend=self.alias).exclude(provider_applicant_id="")
        ids = list(held.values_list("provider_applicant_id", flat=True))
        for data in applicant.aml_checks.filter(backend=self.alias).values_list("provider_data", flat=True):
            ids.append(text(mapping(data).get(aml.APPLICANT_KEY)))
        return list(dict.fromkeys(i for i in ids if i))

    def delete_applicant(self, applicant: Applicant) -> None:
        """``DELETE /applicants/{id}`` for each Onfido applicant of the person. Onfido schedules the deletion
        (the applicant's ``delete_at``); :meth:`restore_applicant` undoes it until then. One Onfido no longer
        knows counts as deleted, so an erasure can be retried."""
        for applicant_id in self.onfido_applicants(applicant):
            try:
                self.client.delete_applicant(applicant_id)
            except PermanentProviderError as exc:
                if exc.status_code != 404:
                    raise
                logger.info("onfido: applicant %s was already gone", applicant_id)

    def restore_applicant(self, applicant: Applicant) -> None:
        """Undo :meth:`delete_applicant` while Onfido still holds the applicants (``POST …/restore``)."""
        for applicant_id in self.onfido_applicants(applicant):
            self.client.restore_applicant(applicant_id)
