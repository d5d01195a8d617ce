"""The ARGOS backend: its options, the Liveform link, the submissions read back, reviews and erasure. Webhooks,
AML and reconciliation live in their own modules; the facts behind each step are in ``docs/providers/argos.md``.

ARGOS is Liveform-first: the person captures their document and selfie on ARGOS's hosted page, and the REST API
reads and manages the results. Nothing exists at ARGOS until the person starts there, so "submitting" a
verification means building its Liveform link with our verification id as ``userid``: starting again after a
crash cannot create a second record at ARGOS. The submission still makes one call, listing that ``userid``'s
submissions: it proves the credentials work before a person is sent to the page, and picks up a submission the
person already made.

One person can make several submissions under the same link, and ARGOS's results can arrive out of order, so a
verification's state is always computed from *all* of its ``userid``'s submissions (the most recent approved one
wins, else the most recent one) and an older submission can never regress it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, cast
from urllib.parse import urlencode

from django.utils.translation import gettext

from django_kyc.backends.argos import aml, webhooks
from django_kyc.backends.argos.client import ArgosClient, argos_error_message
from django_kyc.backends.argos.crypto import encryption_key, seal_json
from django_kyc.backends.argos.reconcile import reconcile
from django_kyc.backends.argos.state import build_state, no_submission
from django_kyc.backends.argos.statuses import DECISION_MAP, STATUS_MAP, pick_submission, result_of, sort_key
from django_kyc.backends.base import (
    AmlResult,
    Capability,
    ClientToken,
    InboundWebhook,
    KycBackend,
    Option,
    ProviderEvent,
    ProviderState,
    Submission,
)
from django_kyc.backends.options import boolean, dictionary, integer, strings
from django_kyc.backends.parsing import mapping
from django_kyc.exceptions import PermanentProviderError, UnsupportedFeature
from django_kyc.status import VerificationStatus

if TYPE_CHECKING:
    from django_kyc.models import AmlCheck, Applicant, Verification

V = VerificationStatus

DEFAULT_BASE_URL = "https://rest-api.argosidentity.com/v3"
DEFAULT_LIVEFORM_URL = "https://form.argosidentity.com/"
#: The fixed egress IP ARGOS's network-security page shows (each project's own is in the dashboard).
DEFAULT_ALLOWED_IPS = ("52.78.194.237",)
#: The Liveform's custom fields when ``CUSTOM_FIELDS`` is not set: ``cf1`` carries the applicant's reference.
DEFAULT_CUSTOM_FIELDS: Mapping[str, str] = {"cf1": "reference"}
#: ARGOS's answers to deleting a submission it does not hold (or no longer holds): "… Data" and "… ID".
ALREADY_DELETED = re.compile(r"not\s+exist\s+submission\s+(data|id)\b", re.IGNORECASE)
#: ``data`` fields a deleted submission keeps ("ID type"; the ids, dates and result sit outside ``data``).
RETAINED_DATA = frozenset({"idType"})
#: The verification statuses in which the person still has something to do on the Liveform.
LINK_STATUSES = (V.PENDING, V.AWAITING_USER, V.RESUBMISSION_REQUESTED)


def _encryption(value: Any) -> str:
    mode = str(value).strip().lower()
    if mode not in ("", "off", "none", "false", "ecb"):
        raise ValueError(f'must be "" (off) or "ecb", not {mode!r}.')
    return mode


class ArgosBackend(KycBackend):
    """ARGOS ID check: Liveform links, submissions read back, client reviews, AML, erasure (options:
    ``option_specs``, documented in ``docs/providers/argos.md``)."""

    provider = "argos"
    display_name = "ARGOS ID check"
    #: No document upload (the Liveform captures everything) and no crypto AML.
    capabilities = frozenset(
        {
            Capability.HOSTED_FLOW,
            Capability.POLLING,
            Capability.WEBHOOKS,
            Capability.RECONCILE,
            Capability.PUSH_DECISION,
            Capability.AML,
            Capability.AML_REPORT,
            Capability.AML_MONITORING,
            Capability.DELETE,
        }
    )
    capability_notes = {Capability.PUSH_DECISION: "`PUSH_DECISIONS`", Capability.AML_MONITORING: "`AML_WORKLIST_ID`"}
    option_specs = (
        Option("API_KEY", "The project's API key, sent as `x-api-key`.", required=True, secret=True),
        Option("PROJECT_ID", "The project id: the Liveform's `pid`.", required=True),
        Option("BASE_URL", "Point it at the fake server for tests and the demo.", url=True, default=DEFAULT_BASE_URL),
        Option("LIVEFORM_URL", "The hosted page the client link points to.", url=True, default=DEFAULT_LIVEFORM_URL),
        Option(
            "ALLOWED_IPS",
            "Addresses or networks (CIDR) webhooks may come from. The default is the egress IP ARGOS's "
            "network-security page shows; the dashboard shows your project's own (Settings → Access "
            "Management): set it.",
            coerce=strings,
            default=DEFAULT_ALLOWED_IPS,
        ),
        Option(
            "TRUST_FORWARDED_FOR",
            "`0`: only `REMOTE_ADDR` counts and `X-Forwarded-For` is ignored. `N`: the site runs behind N reverse "
            "proxies it trusts; the sender is the N-th `X-Forwarded-For` entry from the right (entries further "
            "left are written by the sender and prove nothing).",
            coerce=integer(minimum=0),
            default=0,
        ),
        Option(
            "ENCRYPTION",
            '`"ecb"`: ARGOS\'s "Secure Data Transmission" (AES-256-ECB, PKCS#7, base64; key = SHA-256 of the API '
            "key, or of `SECRET_KEY`). Webhook bodies must then be encrypted (plain ones are refused), request "
            "bodies are sent encrypted and the Liveform parameters travel in `encrypted=`. Encrypted API "
            "responses (`isEncrypted`) are decrypted whatever this option says. Anything else is a configuration "
            "error.",
            coerce=_encryption,
            default="",
            default_doc='`""` (off)',
        ),
        Option(
            "SECRET_KEY",
            "The dashboard-issued `secretKey`, when the project encrypts with it instead of the API key.",
            secret=True,
        ),
        Option(
            "ADMIN",
            "Email of an admin registered in ARGOS's dashboard. Required by ARGOS for reviews (`PUSH_DECISIONS`) "
            "and monitoring enrolment; sent as `admin_name` on deletion so ARGOS sends a `delete` webhook.",
        ),
        Option(
            "PUSH_DECISIONS",
            "The project's reviewer is \"Client\": our reviewers' approve / decline is sent with "
            "`POST /submission/review` (only `pending` submissions can be reviewed there).",
            coerce=boolean,
            default=False,
        ),
        Option(
            "AML_WORKLIST_ID",
            "Enrol approved submissions in this ongoing-monitoring worklist when an AML check runs "
            "(`POST /submission/aml/monitor/{worklistId}`); scheduled re-screenings then enrol (or confirm the "
            "enrolment) instead of screening again (docs/rescreening.md). Unset: no enrolment from here.",
        ),
        Option(
            "CUSTOM_FIELDS",
            "Liveform `cf1` … `cf3`, each the name of an `Applicant` attribute.",
            coerce=dictionary,
            default_doc='`{"cf1": "reference"}`',
        ),
        Option(
            "PAGE_SIZE",
            "`count` per `GET /submission` page (ARGOS's default).",
            coerce=integer(minimum=1),
            default=50,
        ),
    )

    #: ``kyc.result`` → our statuses (:mod:`.statuses`); anything else goes to a person (``UNKNOWN_STATUS``).
    STATUS_MAP: ClassVar[Mapping[str, str]] = STATUS_MAP

    # --- options -------------------------------------------------------------------------------------
    def supports(self, capability: Capability | str) -> bool:
        if capability == Capability.AML_MONITORING:
            return bool(self.option("AML_WORKLIST_ID"))  # enrolment needs a worklist to enrol in
        return super().supports(capability)

    @property
    def encrypted(self) -> bool:
        return bool(self.option("ENCRYPTION") == "ecb")

    @property
    def key(self) -> bytes:
        return encryption_key(str(self.option("SECRET_KEY") or self.option("API_KEY")))

    @property
    def allowed_ips(self) -> list[str]:
        return list(self.option("ALLOWED_IPS"))

    @property
    def admin(self) -> str:
        return str(self.option("ADMIN") or "")

    def require_admin(self, purpose: str) -> str:
        if not self.admin:
            # a provider error, not a configuration error: the task records it where reviewers see it
            raise PermanentProviderError(
                f'OPTIONS["ADMIN"] (an ARGOS dashboard admin email) is required to {purpose}', provider=self.provider
            )
        return self.admin

    @cached_property
    def client(self) -> ArgosClient:
        client = self.http_client(
            str(self.option("BASE_URL")),
            headers={"x-api-key": str(self.option("API_KEY"))},
            error_message=argos_error_message,
            client_class=ArgosClient,
            key=self.key,
            encrypt_bodies=self.encrypted,
            page_size=int(self.option("PAGE_SIZE")),
        )
        return cast(ArgosClient, client)

    # --- submissions ---------------------------------------------------------------------------------
    def iter_submissions(self, **query: Any) -> Iterator[dict[str, Any]]:
        """``GET /submission`` with the given filters, every page (:meth:`ArgosClient.iter_submissions`)."""
        return self.client.iter_submissions(**query)

    def submissions_of(self, verification: Verification) -> list[dict[str, Any]]:
        """Every submission made through this verification's Liveform link (``userid`` = its id)."""
        return list(self.iter_submissions(userid=str(verification.pk)))

    def state_from(self, submission: Mapping[str, Any], submissions: Sequence[Mapping[str, Any]] = ()) -> ProviderState:
        """The state of ``submission`` among ``submissions`` (:func:`.state.build_state`)."""
        return build_state(submission, submissions, self.map_status)

    # --- Liveform ------------------------------------------------------------------------------------
    def liveform_parameters(self, verification: Verification) -> dict[str, str]:
        applicant = verification.applicant
        params = {"userid": str(verification.pk)}
        if applicant.email:
            params["email"] = applicant.email
        fields = self.option("CUSTOM_FIELDS") or DEFAULT_CUSTOM_FIELDS
        for name in ("cf1", "cf2", "cf3"):
            attribute = fields.get(name)
            value = getattr(applicant, str(attribute), "") if attribute else ""
            if value not in (None, ""):
                params[name] = str(value)
        return params

    def liveform_link(self, verification: Verification) -> str:
        """``<LIVEFORM_URL>?pid=…&userid=…&email=…&cf1=…``; with ``ENCRYPTION`` only ``pid`` stays readable
        and the rest travels as ``encrypted=`` (the JSON object, encrypted like any ARGOS payload)."""
        params = self.liveform_parameters(verification)
        query: dict[str, str] = {"pid": str(self.option("PROJECT_ID"))}
        if self.encrypted:
            query["encrypted"] = seal_json(self.key, params)
        else:
            query.update(params)
        base = str(self.option("LIVEFORM_URL"))
        return f"{base}{'&' if '?' in base else '?'}{urlencode(query)}"

    # --- verifications -------------------------------------------------------------------------------
    def start_verification(self, verification: Verification) -> Submission:
        """The Liveform link; nothing is created at ARGOS, so this is idempotent by construction. The one
        call (the ``userid``'s submissions) checks the credentials and resumes a submission already made."""
        submissions = self.submissions_of(verification)
        chosen = pick_submission(submissions) if submissions else None
        return Submission(
            state=self.state_from(chosen, submissions) if chosen else no_submission(),
            provider_verification_id=str(chosen.get("submission_id") or "") if chosen else "",
            client=ClientToken(link=self.liveform_link(verification)),
        )

    def issue_client_token(self, verification: Verification) -> ClientToken:
        """The same link again (it does not expire) while the person still has something to do there."""
        if verification.status not in LINK_STATUSES:
            return ClientToken()
        return ClientToken(link=self.liveform_link(verification))

    def fetch_verification(self, verification: Verification) -> ProviderState:
        """All of the verification's submissions, reduced by the FAQ rule; the chosen submission's id is
        committed as ``provider_verification_id`` when it changes (a second submission won)."""
        submissions = self.submissions_of(verification)
        if not submissions:
            return no_submission()
        chosen = pick_submission(submissions)
        submission_id = str(chosen.get("submission_id") or "")
        if submission_id and submission_id != verification.provider_verification_id:
            self.remember(verification, provider_verification_id=submission_id)
        return self.state_from(chosen, submissions)

    def reconcile(self, since: datetime | None = None) -> Iterator[ProviderEvent]:
        return reconcile(self, since)

    # --- reviewer decisions ----------------------------------------------------------------------------
    def push_decision(self, verification: Verification, status: str, reason: str = "", reason_code: str = "") -> None:
        """``POST /submission/review`` for the pending submission (the project's reviewer is "Client"). ARGOS
        requires a reject comment: the reviewer's own words, else their reason code."""
        target = DECISION_MAP.get(status)
        if target is None:
            raise UnsupportedFeature(
                self.provider,
                gettext("pushing a %(status)s decision (ARGOS reviews approve or reject)") % {"status": repr(status)},
            )
        admin = self.require_admin("push reviewer decisions")
        pending = [item for item in self.submissions_of(verification) if result_of(item) == "pending"]
        if not pending:
            raise PermanentProviderError("ARGOS has no pending submission to review", provider=self.provider)
        held = [item for item in pending if str(item.get("submission_id")) == verification.provider_verification_id]
        submission = (held or [max(pending, key=sort_key)])[0]
        comment = (reason or reason_code or "Declined by reviewer")[:500] if target == "rejected" else ""
        answer = self.client.review(admin, str(submission["submission_id"]), target, comment)
        final = str(mapping(answer).get("finalStatus") or "")
        if final and final != target:
            raise PermanentProviderError(f"ARGOS recorded {final!r}, not {target!r}", provider=self.provider)

    # --- webhooks ------------------------------------------------------------------------------------
    def authenticate_webhook(self, webhook: InboundWebhook) -> None:
        webhooks.authenticate(
            webhook,
            alias=self.alias,
            allowed_ips=self.allowed_ips,
            trusted_proxies=int(self.option("TRUST_FORWARDED_FOR")),
            key=self.key if self.encrypted else None,
        )

    def parse_webhook(self, webhook: InboundWebhook) -> list[ProviderEvent]:
        return webhooks.parse(webhooks.read_delivery(webhook, self.key if self.encrypted else None))

    def claim_confirmed(self, event: ProviderEvent, state: ProviderState) -> bool:
        return webhooks.claim_confirmed(event, state)

    # --- AML -----------------------------------------------------------------------------------------
    def screen(self, aml_check: AmlCheck) -> AmlResult:
        return aml.screen(self, aml_check)

    def fetch_aml(self, aml_check: AmlCheck) -> AmlResult:
        return aml.screen(self, aml_check)

    def enrol_monitoring(self, aml_check: AmlCheck) -> AmlResult:
        """The applicant's approved submission in ``AML_WORKLIST_ID``, enrolled at most once (earlier checks
        and ARGOS's own records are consulted first), with ARGOS's current screening of it read back."""
        if not self.supports(Capability.AML_MONITORING):
            raise UnsupportedFeature(self.provider, 'ongoing AML monitoring without OPTIONS["AML_WORKLIST_ID"]')
        return aml.screen(self, aml_check)

    def aml_report(self, aml_check: AmlCheck) -> tuple[bytes, str]:
        """The PDF of the check's highest-scoring match, fetched on demand and never stored."""
        return aml.report(self, aml_check)

    def aml_report_for(self, resource_id: str) -> tuple[bytes, str]:
        """The PDF ARGOS issues for any one match (``resource_id``)."""
        return self.client.aml_report(resource_id), "application/pdf"

    # --- data protection -------------------------------------------------------------------------------
    def delete_applicant(self, applicant: Applicant) -> None:
        """``DELETE /submission`` for every submission of every ARGOS verification of the applicant.
        ARGOS purges personal data, images and AML data and keeps ids, dates and the result (still billed).
        A submission already gone counts as deleted, so the erasure can be retried."""
        for verification in applicant.verifications.filter(backend=self.alias):
            for submission in self.submissions_of(verification):
                try:
                    # without admin_name ARGOS sends no ``delete`` webhook
                    self.client.delete_submission(str(submission.get("submission_id") or ""), self.admin)
                except PermanentProviderError as exc:
                    if not ALREADY_DELETED.search(exc.message):
                        raise
                    self._check_gone(submission)

    def _check_gone(self, submission: Mapping[str, Any]) -> None:
        """After "not Exist Submission …": believe it only if the submission holds no personal data any more.

        ARGOS's page lists "not Exist Submission Data" (no such submission) and "not Exist Submission ID" (the
        id parameter is missing), while its own error example answers an unknown id with the latter; both
        count as already deleted. A parameter ARGOS stopped reading would give the same answer for every
        submission and the erasure would silently do nothing, so the listing just read must show the
        submission as ARGOS leaves a deleted one: no email and no personal fields in ``data``."""
        data = mapping(submission.get("data"))
        personal = sorted(key for key, value in data.items() if value not in (None, "") and key not in RETAINED_DATA)
        if submission.get("email") or personal:
            raise PermanentProviderError(
                f"ARGOS says submission {submission.get('submission_id')} does not exist but still lists its "
                f"personal data ({', '.join(personal) or 'email'}): not erased",
                provider=self.provider,
            )
