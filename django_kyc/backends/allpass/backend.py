"""The Allpass backend: the submission (find or create the applicant, then a token), state building, erasure,
and the glue to the options (:mod:`.options`), the webhook and the crypto-AML helpers.

Idempotency: ``externalUserId`` is unique per applicant at Allpass and ``GET /applicant/{id}`` accepts it, so a
submission retried after a crash looks the applicant up by our reference before creating one, and the Allpass id
is committed with :meth:`remember` the moment it is known.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable, Mapping
from datetime import date, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, cast

from django.utils import timezone

from django_kyc.backends.allpass import aml, options, statuses, webhooks
from django_kyc.backends.allpass.client import (
    AUTH_HEADER,
    PROVIDER,
    AllpassClient,
    allpass_error_message,
    is_not_found,
)
from django_kyc.backends.allpass.crypto import SIGNATURE_HEADER, ApplicationKeys
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
from django_kyc.backends.parsing import mapping, text
from django_kyc.exceptions import PermanentProviderError, WebhookAuthenticationError, WebhookPayloadError

if TYPE_CHECKING:
    from django_kyc.models import AmlCheck, Applicant, Verification

logger = logging.getLogger("django_kyc.allpass")


class AllpassBackend(KycBackend):
    """Allpass applicants, hosted flow, encrypted webhooks and crypto AML (options: ``option_specs``,
    documented in ``docs/providers/allpass.md``)."""

    provider = PROVIDER
    display_name = "Allpass / elKYC"
    #: the GCM tag (or CBC HMAC) is needed to decrypt a stored delivery again when it is processed
    parse_headers = (SIGNATURE_HEADER,)
    #: No document upload (capture happens in Allpass's flow), no person AML over the API, no reviewer push.
    capabilities = frozenset(
        {Capability.HOSTED_FLOW, Capability.POLLING, Capability.WEBHOOKS, Capability.CRYPTO_AML, Capability.DELETE}
    )
    capability_notes = {Capability.DELETE: "scheduled, can be restored"}
    STATUS_MAP: ClassVar[Mapping[str, str]] = statuses.STATUS_MAP
    EVENT_TABLE: ClassVar[Mapping[str, str]] = statuses.EVENT_TABLE
    option_specs = options.OPTION_SPECS

    @classmethod
    def option_rules(cls, config: Mapping[str, Any]) -> list[tuple[str, str]]:
        """The rules across options (:func:`.options.option_rules`)."""
        return options.option_rules(config)

    def status_keys(self, raw: str, *qualifiers: Any) -> Iterable[Hashable]:
        """Allpass's statuses are upper case; a status in another case is the same status."""
        return (raw.upper(),)

    # --- configuration -------------------------------------------------------------------------------
    @cached_property
    def keys(self) -> ApplicationKeys:
        """The application's keys and encryption method (webhooks and encrypted API answers)."""
        return ApplicationKeys.from_config(self.config)

    @cached_property
    def client(self) -> AllpassClient:
        """One client (one connection pool) per backend instance; the registry caches instances per alias."""
        client = self.http_client(
            str(self.option("BASE_URL")),
            headers={AUTH_HEADER: str(self.option("PRIVATE_APP_KEY")), "Accept": "application/json"},
            error_message=allpass_error_message,
            client_class=AllpassClient,
            keys=self.keys,
        )
        return cast(AllpassClient, client)

    @property
    def blockchains(self) -> tuple[str, ...]:
        configured = self.option("BLOCKCHAINS")
        return tuple(item.upper() for item in configured) if configured else aml.DEFAULT_BLOCKCHAINS

    # --- applicants ----------------------------------------------------------------------------------
    def supplied_info(self, applicant: Applicant) -> dict[str, Any]:
        """What we know about the person, for Allpass to compare with the documents it reads.

        Allpass calls ``suppliedInfo`` "an object" and does not list its keys; these are the applicant attributes
        of Allpass's own objects in camel case. Empty values are not sent.
        """
        dob = applicant.date_of_birth
        info = {
            "firstName": applicant.first_name,
            "middleName": applicant.middle_name,
            "lastName": applicant.last_name,
            "fullName": applicant.full_name,
            "dateOfBirth": dob.isoformat() if isinstance(dob, date) else "",
            "nationality": applicant.nationality,
            "country": applicant.country,
            "city": applicant.city,
            "address": applicant.address_line,
            "postalCode": applicant.postal_code,
        }
        return {key: value for key, value in info.items() if value}

    def create_applicant(self, applicant: Applicant) -> dict[str, Any]:
        """The Allpass applicant for ``applicant``, our reference as ``externalUserId``."""
        return self.client.create_applicant(
            applicant.reference,
            str(self.option("FLOW_NAME")),
            phone=applicant.phone,
            email=applicant.email,
            lang=self.option("LANG"),
            suppliedInfo=self.supplied_info(applicant) if self.option("SEND_SUPPLIED_INFO") else None,
        )

    def mint_token(self, applicant_id: str) -> tuple[ClientToken, dict[str, Any]]:
        """The hosted-flow link and SDK access token, expiring when Allpass says (measured from before the
        request: we never promise a link longer than Allpass honours it)."""
        ttl = int(self.option("TOKEN_TTL"))
        requested = timezone.now()
        data = self.client.token(
            applicant_id,
            ttl=ttl,
            flow_name=str(self.option("FLOW_NAME")),
            locale=str(self.option("LOCALE") or self.option("LANG") or ""),
        )
        token, link = text(data.get("accessToken")), text(data.get("link"))
        if not token and not link:
            raise PermanentProviderError(
                "Allpass answered the token call without accessToken or link", provider=self.provider
            )
        seconds: float = ttl
        answered = data.get("ttl")
        if isinstance(answered, int | float) and not isinstance(answered, bool) and answered > 0:
            seconds = answered
        return ClientToken(token=token, link=link, expires_at=requested + timedelta(seconds=seconds)), data

    def delete_applicant(self, applicant: Applicant) -> None:
        """Erasure: schedule the Allpass applicant (found by our reference) for deletion. Allpass keeps it until
        ``scheduledDeletionDate``, and ``client.restore(reference)`` can undo it until then."""
        try:
            when = self.client.schedule_deletion(applicant.reference)
        except PermanentProviderError as exc:
            if not is_not_found(exc):
                raise
            # never sent to Allpass (or already gone): there is nothing to erase there
            logger.info("allpass: applicant %s has no Allpass applicant to delete", applicant.pk)
            return
        logger.info("allpass: applicant %s scheduled for deletion at %s", applicant.pk, when)

    # --- verifications -------------------------------------------------------------------------------
    def start_verification(self, verification: Verification) -> Submission:
        """Find or create the Allpass applicant, commit its id, then mint a token (hosted flow).

        Idempotent: a verification that already holds an Allpass id reuses it; otherwise the applicant is looked
        up by our reference (``externalUserId``) before one is created, so a crash after the create call, or a
        second verification of the same person, never makes a second Allpass applicant.
        """
        applicant_id = verification.provider_applicant_id
        if applicant_id:
            record = self.client.get_applicant(applicant_id)
        else:
            record = self.client.find_applicant(verification.applicant.reference) or self.create_applicant(
                verification.applicant
            )
            applicant_id = text(record.get("id"))
            if not applicant_id:
                raise PermanentProviderError("Allpass answered without an applicant id", provider=self.provider)
            self.remember(verification, provider_applicant_id=applicant_id, provider_verification_id=applicant_id)
        client, token_data = self.mint_token(applicant_id)
        self.remember(
            verification, provider_data={"allpass_token": {"transactionId": text(token_data.get("transactionId"))}}
        )
        return Submission(
            state=self.state_from_applicant(record),
            provider_applicant_id=applicant_id,
            provider_verification_id=applicant_id,
            client=client,
        )

    def issue_client_token(self, verification: Verification) -> ClientToken:
        """A fresh token and link for the held applicant; empty before the submission task created it (making
        one here would race that task)."""
        if not verification.provider_applicant_id:
            return ClientToken()
        client, _ = self.mint_token(verification.provider_applicant_id)
        return client

    def fetch_verification(self, verification: Verification) -> ProviderState:
        """``GET /applicant/{id}``: status, review, services and flow (polling and step events)."""
        applicant_id = verification.provider_applicant_id or verification.provider_verification_id
        if not applicant_id:
            raise PermanentProviderError("the verification has no Allpass applicant yet", provider=self.provider)
        return self.state_from_applicant(self.client.get_applicant(applicant_id))

    def state_from_applicant(self, record: Mapping[str, Any]) -> ProviderState:
        """An applicant object as a state. ``review``, ``servicesData`` and ``flow`` are kept (without the
        document images, which would bloat every row), and the review's comment, warnings and failed services'
        messages become reasons a reviewer sees."""
        raw = text(record.get("status")).upper()
        review = mapping(record.get("review"))
        services = record.get("servicesData")
        services = services if isinstance(services, list) else []
        data = {
            "allpass": {
                "status": raw,
                "review": statuses.strip_images(review),
                "servicesData": statuses.strip_images(services),
                "flow": mapping(record.get("flow")),
                "scheduledDeletionDate": record.get("scheduledDeletionDate"),
                "amlMonitoring": mapping(record.get("amlMonitoring")),
            }
        }
        return ProviderState(
            status=self.map_status(raw),
            provider_status=raw or "(empty)",
            reasons=statuses.reasons_from(review, services),
            data=data,
        )

    # --- webhooks ------------------------------------------------------------------------------------
    def open_webhook(self, webhook: InboundWebhook, *, verify: bool) -> tuple[dict[str, Any], dict[str, Any]]:
        """(envelope, decrypted payload); ``verify`` checks the CBC HMAC and ``APP_KEY`` too."""
        return webhooks.open_delivery(
            webhook,
            self.keys,
            verify=verify,
            hmac_input=str(self.option("HMAC_INPUT")),
            app_key=str(self.option("APP_KEY") or ""),
        )

    def authenticate_webhook(self, webhook: InboundWebhook) -> None:
        """Only a delivery whose signature verifies *and* whose data decrypts is Allpass's."""
        self.open_webhook(webhook, verify=True)

    def parse_webhook(self, webhook: InboundWebhook) -> list[ProviderEvent]:
        """The delivery's event. It was authenticated when it arrived; one that no longer opens (the keys
        changed since) is a payload problem for the inbox, not a forgery."""
        try:
            envelope, payload = self.open_webhook(webhook, verify=False)
        except WebhookAuthenticationError as exc:
            raise WebhookPayloadError(str(exc)) from exc
        return webhooks.events_from(envelope, payload, self.map_status, str(self.option("EVENT_FIELD") or ""))

    # --- crypto AML ----------------------------------------------------------------------------------
    def check_aml_subject(self, aml_check: AmlCheck) -> None:
        aml.search_body(aml_check, self.blockchains)

    def screen(self, aml_check: AmlCheck) -> AmlResult:
        """Search once (the search id is committed at once, so a retry reads that search), then read it."""
        body = aml.search_body(aml_check, self.blockchains)
        if not (aml_check.provider_check_id and aml.held_search(aml_check).get("type")):
            search = aml.search_from(self.client.aml_search(body), aml_check)
            self.remember_aml(aml_check, provider_check_id=search["id"], provider_data={aml.SEARCH_KEY: search})
        return self.fetch_aml(aml_check)

    def fetch_aml(self, aml_check: AmlCheck) -> AmlResult:
        """The search's details; ``running`` while Allpass has no score."""
        aml_id, kind = aml.search_to_read(aml_check)
        details = self.client.aml_details(aml_id, kind)
        return aml.aml_result(aml_id, kind, details, float(self.option("AML_SCORE_THRESHOLD")))
