"""The Veriff backend: its declarations, the client, and the contract methods.

The work is done next door: :mod:`.submission` (the session, then its link or our media and the submit),
:mod:`.state` (decisions and events as our states), :mod:`.webhooks` (signatures, which session a delivery
names), :mod:`.client` (request signing and the endpoints) and :mod:`.statuses` (the tables). Settings,
Veriff's open points and the defaults chosen for them are in ``docs/providers/veriff.md``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
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
from django_kyc.backends.options import boolean, integer, secrets, strings
from django_kyc.backends.ratelimit import RateLimit
from django_kyc.backends.veriff import statuses, webhooks
from django_kyc.backends.veriff.client import DEFAULT_BASE_URL, PROVIDER, VeriffClient, veriff_error_message
from django_kyc.backends.veriff.state import decision_state
from django_kyc.backends.veriff.submission import SUBMITTED_KEY, VeriffSubmission, media_to_send
from django_kyc.exceptions import PermanentProviderError
from django_kyc.status import VerificationStatus

if TYPE_CHECKING:
    from django_kyc.models import Applicant, Verification

logger = logging.getLogger("django_kyc.veriff")

MODES = ("hosted", "api")
#: Sessions expire seven days after they are created unless decided before.
DEFAULT_SESSION_TTL = 7 * 24 * 3600
#: ``provider_data`` key of a session Veriff has accepted to delete (it is not asked twice).
DELETED_KEY = "veriff_deleted"
#: ``provider_status`` of a session Veriff answers 404 for.
GONE = "(session deleted)"


class VeriffBackend(KycBackend):
    """Veriff Public API v1: a session per verification, through Veriff's hosted flow (``MODE = "hosted"``) or
    our own media (``"api"``); deletion paced within Veriff's limits."""

    provider = PROVIDER
    display_name = "Veriff"
    capabilities = frozenset(
        {
            Capability.HOSTED_FLOW,
            Capability.DOCUMENT_UPLOAD,
            Capability.WEBHOOKS,
            Capability.POLLING,
            Capability.DELETE,
        }
    )
    capability_notes = {
        Capability.HOSTED_FLOW: '`MODE = "hosted"`',
        Capability.DOCUMENT_UPLOAD: '`MODE = "api"`',
        Capability.DELETE: "opt-in at Veriff, 10 a day",
    }
    option_specs = (
        Option("API_KEY", "The integration's API key, sent as `X-AUTH-CLIENT`.", required=True, secret=True),
        Option(
            "SHARED_SECRETS",
            "The integration's shared secret key, or a list of them for a rotation: the first (the one Veriff "
            "holds now) signs our requests (`X-HMAC-SIGNATURE`); webhooks signed with any are accepted.",
            coerce=secrets,
            required=True,
            secret=True,
        ),
        Option(
            "BASE_URL",
            "The integration's Base URL from the Customer Portal; point it at the fake server for tests and the demo.",
            url=True,
            default=DEFAULT_BASE_URL,
        ),
        Option(
            "MODE",
            '`"hosted"` (the person goes through Veriff\'s flow at the session\'s link) or `"api"` (we upload the '
            "documents as media and submit the session).",
            choices=MODES,
            default="hosted",
        ),
        Option("CALLBACK_URL", "`verification.callback`: where Veriff's flow sends the person at the end.", url=True),
        Option(
            "SEND_PERSON",
            "Send the applicant's name and date of birth as `verification.person`, for Veriff to compare with the "
            "document.",
            coerce=boolean,
            default=True,
        ),
        Option(
            "SESSION_TTL",
            "Seconds a session (and its link) lives; Veriff's sessions expire after seven days.",
            coerce=integer(minimum=60),
            default=DEFAULT_SESSION_TTL,
        ),
        Option(
            "ALLOWED_IPS",
            "Addresses or networks (CIDR) webhooks may come from, checked before the signature; empty: any. "
            "`django_kyc.backends.veriff.VERIFF_IPS` holds Veriff's published egress addresses.",
            coerce=strings,
            default=(),
        ),
        Option(
            "TRUST_FORWARDED_FOR",
            "With `ALLOWED_IPS`: `0` counts only `REMOTE_ADDR`; `N` trusts N reverse proxies (the sender is the "
            "N-th `X-Forwarded-For` entry from the right).",
            coerce=integer(minimum=0),
            default=0,
        ),
        Option(
            "DELETE_PER_HOUR",
            "`DELETE /v1/sessions/{id}` calls per hour at most (Veriff's limit: 5).",
            coerce=integer(minimum=1),
            default=5,
        ),
        Option(
            "DELETE_PER_DAY",
            "`DELETE` calls per 24 hours at most (Veriff's limit: 10).",
            coerce=integer(minimum=1),
            default=10,
        ),
    )
    STATUS_MAP: ClassVar[Mapping[Any, str]] = statuses.STATUS_MAP
    #: Veriff's deletion budget per integration (https://devdocs.veriff.com/apidocs/v1sessionsid-3); other calls
    #: have no published limit. ``DELETE_PER_HOUR`` / ``DELETE_PER_DAY`` are what the client uses.
    rate_limits = (RateLimit(5, 3600, ("DELETE",)), RateLimit(10, 86400, ("DELETE",)))

    def supports(self, capability: Capability | str) -> bool:
        if capability == Capability.HOSTED_FLOW:
            return bool(self.option("MODE") == "hosted")
        if capability == Capability.DOCUMENT_UPLOAD:
            return bool(self.option("MODE") == "api")
        return super().supports(capability)

    @cached_property
    def client(self) -> VeriffClient:
        """One client (one connection pool) per backend instance; the registry caches instances per alias."""
        from django_kyc.backends.ratelimit import RateLimiter

        limits = (
            RateLimit(int(self.option("DELETE_PER_HOUR")), 3600, ("DELETE",)),
            RateLimit(int(self.option("DELETE_PER_DAY")), 86400, ("DELETE",)),
        )
        client = self.http_client(
            str(self.option("BASE_URL")),
            error_message=veriff_error_message,
            client_class=VeriffClient,
            api_key=str(self.option("API_KEY")),
            shared_secret=self.option("SHARED_SECRETS")[0],
            rate_limiter=RateLimiter(scope=self.alias, limits=limits, provider=self.provider),
        )
        return cast(VeriffClient, client)

    # --- refusing early ------------------------------------------------------------------------------
    def check_verification_subject(self, applicant: Applicant) -> None:
        """API mode: an identity document to send, and every file within Veriff's media rules."""
        if self.option("MODE") != "api":
            return
        files = media_to_send(applicant)
        for context, row in files:
            problem = statuses.file_problem(row.content_type, row.size)
            if problem:
                raise PermanentProviderError(
                    gettext("document %(document)s (%(context)s): %(problem)s")
                    % {"document": row.document_id, "context": context, "problem": problem},
                    provider=self.provider,
                )
        if not any(context != statuses.FACE_CONTEXT for context, _ in files):
            raise PermanentProviderError(
                gettext(
                    "Veriff needs an identity document (passport, ID card, driving licence or residence permit): "
                    "upload one before starting the verification"
                ),
                provider=self.provider,
            )

    # --- verifications -------------------------------------------------------------------------------
    def start_verification(self, verification: Verification) -> Submission:
        submission = VeriffSubmission(self, verification)
        return submission.hosted() if self.option("MODE") == "hosted" else submission.api()

    def issue_client_token(self, verification: Verification) -> ClientToken:
        """The session's link again (Veriff has one per session); empty before the submission task created the
        session (making one here would race that task)."""
        if self.option("MODE") != "hosted":
            raise self._unsupported(gettext('session links in API mode (set MODE to "hosted")'))
        if not verification.provider_verification_id:
            return ClientToken()
        return VeriffSubmission(self, verification).client_token()

    def fetch_verification(self, verification: Verification) -> ProviderState:
        """``GET /v1/sessions/{id}/decision``; before a decision, the person's turn in the hosted flow and
        Veriff's once we submitted. A session Veriff no longer has (deleted on erasure, or by Veriff) can never be
        finished: ``expired``, which a verification already decided or cancelled ignores."""
        session_id = verification.provider_verification_id
        if not session_id:
            raise PermanentProviderError("the verification has no Veriff session yet", provider=self.provider)
        undecided = (
            VerificationStatus.PROCESSING
            if verification.provider_data.get(SUBMITTED_KEY)
            else VerificationStatus.AWAITING_USER
        )
        try:
            answer = self.client.decision(session_id)
        except PermanentProviderError as exc:
            if exc.status_code != 404:
                raise
            return ProviderState(
                status=VerificationStatus.EXPIRED,
                provider_status=GONE,
                reasons=("the session no longer exists at Veriff",),
            )
        return decision_state(answer, self.map_status, undecided=undecided)

    # --- webhooks ------------------------------------------------------------------------------------
    sign = staticmethod(webhooks.sign)

    def authenticate_webhook(self, webhook: InboundWebhook) -> None:
        webhooks.authenticate(
            webhook,
            self.option("SHARED_SECRETS"),
            api_key=str(self.option("API_KEY")),
            allowed_ips=list(self.option("ALLOWED_IPS")),
            trusted_proxies=int(self.option("TRUST_FORWARDED_FOR")),
        )

    def parse_webhook(self, webhook: InboundWebhook) -> list[ProviderEvent]:
        return webhooks.parse(webhook, self.map_status)

    # --- data protection -----------------------------------------------------------------------------
    def delete_applicant(self, applicant: Applicant) -> None:
        """``DELETE /v1/sessions/{id}`` for each of the person's sessions through this alias not deleted yet.

        Veriff allows 10 deletions a day and 5 an hour: the client keeps to that budget, and a deletion over it
        raises a transient error with ``retry_after``, so the purge leaves the person due and a later run goes
        on where this one stopped (each session deleted is remembered and never asked for twice). A session
        Veriff no longer knows counts as deleted; one still in progress (``Session is not in a completed
        status.``) is an error, retried by a later run.
        """
        held = applicant.verifications.filter(backend=self.alias).exclude(provider_verification_id="")
        for verification in held.order_by("created_at"):
            if verification.provider_data.get(DELETED_KEY):
                continue
            session_id = verification.provider_verification_id
            try:
                self.client.delete_session(session_id)
            except PermanentProviderError as exc:
                if exc.status_code != 404:
                    raise
                logger.info("veriff: session %s was already gone", session_id)
            self.remember(verification, provider_data={DELETED_KEY: True})
