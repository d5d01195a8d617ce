"""KYCAID (API 2.0) backend: https://docs.kycaid.com/.

Two integration modes, chosen with ``OPTIONS["MODE"]``:

``"api"`` (default)
    Everything server-side: create an applicant from our Applicant, upload each document file
    (``POST /files``), create each document with the file ids (``POST /documents``), then create the
    verification (``POST /verifications`` with ``form_id`` and ``callback_url``). The verification is
    ``processing`` until KYCAID calls back.
``"form"``
    KYCAID's hosted form: ``POST /forms/{form_id}/urls`` returns a one-time ``form_url`` that becomes the
    client link; the verification waits in ``awaiting_user`` until the person submits the form.

Every provider object is committed the moment KYCAID hands out its id (:meth:`KycBackend.remember`), so a
submission retried after a crash reuses the applicant, files, documents and verification it already made.

Callbacks (``VERIFICATION_STATUS_CHANGED``, ``VERIFICATION_COMPLETED``) are authenticated by the
``x-data-integrity`` header: lowercase hex HMAC-SHA512, keyed by the API token, over the *base64 encoding* of
the raw body. They carry no timestamp, so ``occurred_at`` is ``None`` and ordering falls back to the
transition service's progress rank; ``request_id`` de-duplicates redeliveries.

Settings, unknowns and the defaults chosen for them are documented in ``docs/providers/kycaid.md``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

import requests

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
from django_kyc.backends.http import ProviderHttpClient, default_error_message
from django_kyc.backends.options import dictionary, secrets, strings
from django_kyc.backends.parsing import iso_date, text
from django_kyc.backends.signing import as_secret_list, hmac_hex, verify_hmac
from django_kyc.exceptions import (
    PermanentProviderError,
    WebhookPayloadError,
    WebhookSignatureMissing,
)
from django_kyc.status import DocumentStatus, VerificationStatus

if TYPE_CHECKING:
    from django_kyc.models import Document, DocumentFile, Verification
    from django_kyc.services.audit import Change

logger = logging.getLogger("django_kyc.kycaid")

SIGNATURE_HEADER = "x-data-integrity"
DEFAULT_BASE_URL = "https://api.kycaid.com/"

#: KYCAID's decline reason ids (``decline_reasons_ids``) and their codes (``decline_reasons``), from the
#: Documents page of the API reference.
DECLINE_REASONS: Mapping[int, str] = {
    1: "OTHER",
    2: "WRONG_NAME",
    3: "WRONG_DOB",
    4: "AGE_RESTRICTION",
    5: "EXPIRED_DOCUMENT",
    7: "BAD_QUALITY",
    8: "FAKE_DOCUMENT",
    9: "WRONG_INFO",
    10: "PROHIBITED_JURISDICTION",
    11: "NO_SELFIE",
    12: "DIFFERENT_FACES",
    13: "WRONG_DOCUMENT",
    24: "DUPLICATE",
    25: "DOCUMENT_DAMAGED",
    26: "DOCUMENT_INCOMPLETE",
    27: "FRAUDULENT",
    28: "TAX_ID_REQUIRED",
    29: "COMPROMISED_PERSON",
    30: "EDITED_DOCUMENT",
    31: "MULTIPLE_PERSON",
    32: "COMPULSION",
    33: "LIMIT_REACHED_OTP",
    34: "IP_MISMATCH",
    35: "ANONYMIZING_NETWORK",
    36: "QES_MISMATCH",
}

#: Reasons a person can fix by sending better pictures; used by ``DECLINE_POLICY = "resubmit_quality"``.
QUALITY_REASONS: frozenset[str] = frozenset({"BAD_QUALITY", "DOCUMENT_INCOMPLETE", "NO_SELFIE", "DOCUMENT_DAMAGED"})

DECLINE_POLICIES = ("decline", "resubmit_quality")
MODES = ("api", "form")

#: Which file slot of a KYCAID document each of our sides fills first.
_SLOTS = ("front_side_id", "back_side_id", "other_side_1_id", "other_side_2_id", "other_side_3_id")
_SIDE_ORDER = {"front": 0, "single": 1, "back": 2}


def reason_codes(names: Any = None, ids: Any = None) -> list[str]:
    """Merge ``decline_reasons`` (codes) and ``decline_reasons_ids`` into one ordered list of codes.

    Ids are translated with :data:`DECLINE_REASONS`; an id KYCAID adds later is kept as ``REASON_<id>``
    rather than dropped, so the reviewer still sees that there was a reason.
    """
    codes: list[str] = []
    for value in [*(names if isinstance(names, list) else []), *(ids if isinstance(ids, list) else [])]:
        if isinstance(value, bool):
            continue
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            code = DECLINE_REASONS.get(int(value), f"REASON_{int(value)}")
        elif isinstance(value, str) and value.strip():
            code = value.strip().upper()
        else:
            continue
        if code not in codes:
            codes.append(code)
    return codes


def kycaid_error_message(response: requests.Response) -> str:
    """KYCAID's 422 body ``{"type": "validation", "errors": [{"parameter", "message"}]}`` as one line.

    Only the parameter names and KYCAID's messages are used, never the values we sent (they are personal
    data), so the result is safe to store in ``last_error`` and to log.
    """
    try:
        payload = response.json()
    except ValueError:
        return response.reason or f"HTTP {response.status_code}"
    if isinstance(payload, Mapping):
        errors = payload.get("errors")
        if isinstance(errors, list) and errors:
            parts = []
            for item in errors[:10]:
                if isinstance(item, Mapping):
                    parameter = str(item.get("parameter") or "").strip()
                    message = str(item.get("message") or "").strip()
                    parts.append(f"{parameter}: {message}" if parameter and message else message or parameter)
                elif item:
                    parts.append(str(item))
            text = "; ".join(part for part in parts if part)
            if text:
                kind = str(payload.get("type") or "").strip()
                return (f"{kind} error: {text}" if kind else text)[:500]
    return default_error_message(response)


def _one_token(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(
            'must be one token (a string); list older tokens still accepted for callbacks in ["WEBHOOK_TOKENS"].'
        )
    return value


class KycaidBackend(KycBackend):
    """KYCAID (options: ``option_specs``, documented in ``docs/providers/kycaid.md``)."""

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

    #: (KYCAID verification ``status``, ``verified``) -> our status. providers.md §2.3.
    STATUS_TABLE: ClassVar[Mapping[tuple[str, bool | None], str]] = {
        ("unused", None): VerificationStatus.AWAITING_USER,  # form not completed yet
        ("pending", None): VerificationStatus.PROCESSING,  # submitted, KYCAID is deciding
        ("completed", True): VerificationStatus.APPROVED,
        ("completed", False): VerificationStatus.DECLINED,  # DECLINE_POLICY may ask for resubmission instead
        ("completed", None): VerificationStatus.REVIEW,  # completed without a verdict: a person decides
    }
    #: Any other status (KYCAID may add some): a person looks at it; the raw value stays in provider_status.
    UNKNOWN_STATUS: ClassVar[str] = VerificationStatus.REVIEW

    #: KYCAID document ``status`` -> our document status.
    DOCUMENT_STATUS_TABLE: ClassVar[Mapping[str, str]] = {
        "new": DocumentStatus.SUBMITTED,
        "valid": DocumentStatus.ACCEPTED,
        "invalid": DocumentStatus.REJECTED,
    }

    #: Our DocumentType -> KYCAID document ``type``. Values marked ⚠️ in providers.md are overridable with
    #: ``OPTIONS["DOCUMENT_TYPES"]``; a type mapped to ``None`` is not sent (and is listed in provider_data).
    DOCUMENT_TYPES: ClassVar[Mapping[str, str | None]] = {
        "passport": "PASSPORT",
        "id_card": "GOVERNMENT_ID",
        "driving_licence": "DRIVERS_LICENSE",
        "residence_permit": "RESIDENCE_PERMIT",
        "selfie": "SELFIE_IMAGE",
        "utility_bill": "ADDRESS_DOCUMENT",
        "bank_statement": "BANK_STATEMENT",
        "other": None,
    }
    #: KYCAID type -> our DocumentType, for documents KYCAID reports that we did not send (hosted form).
    OUR_DOCUMENT_TYPES: ClassVar[Mapping[str, str]] = {
        "PASSPORT": "passport",
        "FOREIGN_CITIZEN_PASSPORT": "passport",
        "DOMESTIC_PASSPORT": "passport",
        "GOVERNMENT_ID": "id_card",
        "ID_CARD": "id_card",
        "DRIVERS_LICENSE": "driving_licence",
        "RESIDENCE_PERMIT": "residence_permit",
        "SELFIE_IMAGE": "selfie",
        "ADDRESS_DOCUMENT": "utility_bill",
        "BANK_STATEMENT": "bank_statement",
    }

    # --- options -------------------------------------------------------------------------------------
    @property
    def mode(self) -> str:
        return str(self.options.get("MODE", "api"))

    @property
    def form_id(self) -> str:
        return str(self.options["FORM_ID"])

    @property
    def decline_policy(self) -> str:
        return str(self.options.get("DECLINE_POLICY", "decline"))

    @property
    def quality_reasons(self) -> frozenset[str]:
        configured = self.options.get("QUALITY_REASONS")
        return frozenset(str(r).upper() for r in configured) if configured else QUALITY_REASONS

    @property
    def webhook_keys(self) -> list[bytes]:
        """Every token a callback may be signed with: the API token first, then ``WEBHOOK_TOKENS``."""
        return as_secret_list([self.options["API_TOKEN"], *as_secret_list(self.options.get("WEBHOOK_TOKENS"))])

    def supports(self, capability: Capability | str) -> bool:
        if capability == Capability.HOSTED_FLOW:
            return self.mode == "form"
        if capability == Capability.DOCUMENT_UPLOAD:
            return self.mode == "api"
        return super().supports(capability)

    def document_type(self, our_type: str) -> str | None:
        overrides = self.options.get("DOCUMENT_TYPES") or {}
        if our_type in overrides:
            value = overrides[our_type]
            return str(value) if value else None
        return self.DOCUMENT_TYPES.get(our_type)

    @cached_property
    def client(self) -> ProviderHttpClient:
        """One client (one connection pool) per backend instance; the registry caches instances per alias."""
        base_url = str(self.options.get("BASE_URL") or DEFAULT_BASE_URL)
        return self.http_client(
            base_url,
            headers={"Authorization": f"Token {self.options['API_TOKEN']}", "Accept": "application/json"},
            error_message=kycaid_error_message,
        )

    @staticmethod
    def _json(response: requests.Response) -> dict[str, Any]:
        try:
            payload = response.json()
        except ValueError as exc:
            raise PermanentProviderError(
                "KYCAID answered with a body that is not JSON", provider="kycaid", status_code=response.status_code
            ) from exc
        if not isinstance(payload, dict):
            raise PermanentProviderError("KYCAID answered with an unexpected body", provider="kycaid")
        return payload

    def _id(self, response: requests.Response, *keys: str) -> str:
        payload = self._json(response)
        for key in keys:
            if payload.get(key):
                return str(payload[key])
        raise PermanentProviderError(f"KYCAID answered without {keys[0]}", provider=self.provider)

    # --- status mapping ------------------------------------------------------------------------------
    @staticmethod
    def raw_status(status: str, verified: bool | None) -> str:
        """What we keep in ``provider_status``: the status, plus the verdict once KYCAID completed."""
        if status == "completed":
            return f"completed (verified={json.dumps(verified)})"
        return status

    def map_status(self, status: str, verified: bool | None) -> str:
        if (status, verified) in self.STATUS_TABLE:
            return self.STATUS_TABLE[(status, verified)]
        if status != "completed" and (status, None) in self.STATUS_TABLE:
            return self.STATUS_TABLE[(status, None)]
        return self.UNKNOWN_STATUS

    def quality_only(self, reasons: Sequence[str]) -> bool:
        return bool(reasons) and all(reason in self.quality_reasons for reason in reasons)

    def apply_decline_policy(self, status: str, reasons: Sequence[str], attempts_left: Any) -> str:
        """``DECLINE_POLICY = "resubmit_quality"``: a decline whose reasons are all quality-type becomes
        ``resubmission_requested`` while attempts are left (``None`` = unlimited, as KYCAID documents it)."""
        if status != VerificationStatus.DECLINED or self.decline_policy != "resubmit_quality":
            return status
        attempts_ok = attempts_left is None or (isinstance(attempts_left, int) and attempts_left > 0)
        if attempts_ok and self.quality_only(reasons):
            return VerificationStatus.RESUBMISSION_REQUESTED
        return status

    def state_from(
        self,
        payload: Mapping[str, Any],
        *,
        status_key: str = "status",
        attempts_left: Any = None,
        applicant: Mapping[str, Any] | None = None,
    ) -> ProviderState:
        """Normalise a verification (GET response or callback body) into a :class:`ProviderState`.

        Per-check results (``verifications.<check>.verified/comment/decline_reasons``), the applicant's
        ``profile_status`` and each document's status and reasons are kept in ``data["kycaid"]``; person
        data goes to ``applicant_data`` (fills blanks only), never into ``data``.
        """
        status = text(payload.get(status_key)).strip().lower()
        verified_raw = payload.get("verified")
        verified = verified_raw if isinstance(verified_raw, bool) else None
        checks: dict[str, Any] = {}
        reasons: list[str] = []
        raw_checks = payload.get("verifications")
        if isinstance(raw_checks, Mapping):
            for name, check in raw_checks.items():
                if not isinstance(check, Mapping):
                    continue
                check_reasons = reason_codes(check.get("decline_reasons"), check.get("decline_reasons_ids"))
                checks[str(name)] = {
                    "verified": check.get("verified") if isinstance(check.get("verified"), bool) else None,
                    "comment": text(check.get("comment"))[:1000],
                    "decline_reasons": check_reasons,
                }
                if check.get("verified") is False:
                    reasons.extend(r for r in check_reasons if r not in reasons)
        applicant = applicant if applicant is not None else payload.get("applicant")
        applicant = applicant if isinstance(applicant, Mapping) else {}
        reasons.extend(
            r
            for r in reason_codes(applicant.get("decline_reasons"), applicant.get("decline_reasons_ids"))
            if r not in reasons
        )
        raw_documents = applicant.get("documents")
        document_rows = [d for d in raw_documents if isinstance(d, Mapping)] if isinstance(raw_documents, list) else []
        for doc in document_rows:
            if text(doc.get("status")).lower() == "invalid":
                doc_reasons = reason_codes(doc.get("decline_reasons"), doc.get("decline_reasons_ids"))
                reasons.extend(r for r in doc_reasons if r not in reasons)

        normalised = self.map_status(status, verified)
        normalised = self.apply_decline_policy(normalised, reasons, attempts_left)
        documents = [self.document_result(doc, normalised) for doc in document_rows if doc.get("document_id")]
        data: dict[str, Any] = {
            "kycaid": {
                "verification_id": text(payload.get("verification_id")),
                "applicant_id": text(payload.get("applicant_id") or applicant.get("applicant_id")),
                "form_id": text(payload.get("form_id")),
                "status": status,
                "verified": verified,
                "verifications": checks,
                "profile_status": text(applicant.get("profile_status")),
                "documents": [
                    {
                        "document_id": text(doc.get("document_id")),
                        "type": text(doc.get("type")),
                        "status": text(doc.get("status")),
                        "decline_reasons": reason_codes(doc.get("decline_reasons"), doc.get("decline_reasons_ids")),
                    }
                    for doc in document_rows
                ],
            }
        }
        if attempts_left is not None or "verification_attempts_left" in payload:
            data["kycaid_attempts_left"] = attempts_left
        return ProviderState(
            status=normalised,
            provider_status=self.raw_status(status or "missing", verified),
            reasons=tuple(reasons),
            occurred_at=None,  # KYCAID sends no event time; the transition service's rank rule orders events
            documents=documents,
            data=data,
            applicant_data=self.applicant_data(applicant),
        )

    def document_result(self, doc: Mapping[str, Any], verification_status: str = "") -> DocumentResult:
        """One KYCAID document as our document status, with its reasons (codes merged from both fields)."""
        raw = text(doc.get("status")).lower()
        status = self.DOCUMENT_STATUS_TABLE.get(raw, DocumentStatus.SUBMITTED)
        reasons = reason_codes(doc.get("decline_reasons"), doc.get("decline_reasons_ids"))
        if (
            status == DocumentStatus.REJECTED
            and verification_status == VerificationStatus.RESUBMISSION_REQUESTED
            and self.quality_only(reasons)
        ):
            status = DocumentStatus.RESUBMISSION_REQUESTED
        fields: dict[str, Any] = {
            "type": self.OUR_DOCUMENT_TYPES.get(text(doc.get("type")).upper(), "other"),
            "number": text(doc.get("document_number"))[:64],
            "issue_date": iso_date(doc.get("issue_date")),
            "expiry_date": iso_date(doc.get("expiry_date")),
        }
        return DocumentResult(
            status=status,
            provider_document_id=text(doc.get("document_id")),
            reasons=tuple(reasons),
            fields={k: v for k, v in fields.items() if v},
        )

    @staticmethod
    def applicant_data(applicant: Mapping[str, Any]) -> dict[str, Any]:
        data = {
            "first_name": text(applicant.get("first_name")),
            "middle_name": text(applicant.get("middle_name")),
            "last_name": text(applicant.get("last_name")),
            "date_of_birth": iso_date(applicant.get("dob")),
            "nationality": text(applicant.get("nationality")).upper()[:2],
            "country": text(applicant.get("residence_country")).upper()[:2],
        }
        return {key: value for key, value in data.items() if value}

    # --- submission ----------------------------------------------------------------------------------
    @staticmethod
    def person_fields(verification: Verification) -> dict[str, Any]:
        """``POST /applicants`` fields from our Applicant; blanks are left out rather than sent empty."""
        applicant = verification.applicant
        fields: dict[str, Any] = {
            "type": "PERSON",
            "first_name": applicant.first_name,
            "middle_name": applicant.middle_name,
            "last_name": applicant.last_name,
            "dob": applicant.date_of_birth.isoformat() if applicant.date_of_birth else "",
            "residence_country": applicant.country.upper(),
            "nationality": applicant.nationality.upper(),
            "email": applicant.email,
            "phone": applicant.phone,
            "external_applicant_id": applicant.reference,
        }
        return {key: value for key, value in fields.items() if value}

    def start_verification(self, verification: Verification) -> Submission:
        client = self.client
        try:
            if self.mode == "form":
                return self._start_form(client, verification)
            applicant_id = self._ensure_applicant(client, verification)
            self._ensure_documents(client, verification, applicant_id)
            if not verification.provider_verification_id:
                payload: dict[str, Any] = {"applicant_id": applicant_id, "form_id": self.form_id}
                if self.options.get("CALLBACK_URL"):
                    payload["callback_url"] = str(self.options["CALLBACK_URL"])
                # billed, and KYCAID documents no way to find a verification but by its id: a lost answer is
                # reported as a possible duplicate (a second billed verification)
                with self.creating(verification, "verification", "POST /verifications") as call:
                    verification_id = self._id(client.post("/verifications", json=payload), "verification_id")
                    call.remember(provider_verification_id=verification_id)
        finally:
            client.close()
        return Submission(
            state=ProviderState(status=VerificationStatus.PROCESSING, provider_status="pending"),
            provider_applicant_id=applicant_id,
            provider_verification_id=verification.provider_verification_id,
        )

    def _previous_applicant(self, verification: Verification) -> Verification | None:
        """An earlier verification of the same person through this alias that already has a KYCAID applicant.

        KYCAID declines duplicate applicants (reason ``DUPLICATE``), so a re-verification reuses it.
        """
        from django_kyc.models import Verification as VerificationModel

        return (
            VerificationModel.objects.filter(applicant_id=verification.applicant_id, backend=verification.backend)
            .exclude(pk=verification.pk)
            .exclude(provider_applicant_id="")
            .order_by("-created_at")
            .first()
        )

    def _ensure_applicant(self, client: ProviderHttpClient, verification: Verification) -> str:
        if verification.provider_applicant_id:
            return verification.provider_applicant_id
        fields = self.person_fields(verification)
        previous = self._previous_applicant(verification)
        if previous is not None:
            applicant_id = previous.provider_applicant_id
            # bring KYCAID's copy up to date (a resubmission often fixes a name or a date of birth)
            update = {k: v for k, v in fields.items() if k not in ("type", "external_applicant_id")}
            client.patch(f"/applicants/{applicant_id}", json=update)
            self.remember(
                verification,
                provider_applicant_id=applicant_id,
                provider_data={"kycaid_documents": dict(previous.provider_data.get("kycaid_documents") or {})},
            )
            return applicant_id
        # KYCAID documents no search by external_applicant_id: a lost answer is reported, not looked up
        with self.creating(verification, "applicant", "POST /applicants") as call:
            applicant_id = self._id(client.post("/applicants", json=fields), "applicant_id")
            call.remember(provider_applicant_id=applicant_id)
        return applicant_id

    def documents_to_send(self, verification: Verification) -> list[Document]:
        from django_kyc.models import Document

        skip = (DocumentStatus.PURGED, DocumentStatus.REJECTED, DocumentStatus.EXPIRED)
        return list(
            Document.objects.filter(applicant_id=verification.applicant_id)
            .exclude(status__in=skip)
            .prefetch_related("files")
            .order_by("created_at")
        )

    def _ensure_documents(self, client: ProviderHttpClient, verification: Verification, applicant_id: str) -> None:
        documents = dict(verification.provider_data.get("kycaid_documents") or {})
        files = dict(verification.provider_data.get("kycaid_files") or {})
        skipped: list[str] = []
        for document in self.documents_to_send(verification):
            if str(document.pk) in documents:
                continue
            kycaid_type = self.document_type(document.type)
            if not kycaid_type:
                skipped.append(str(document.pk))
                continue
            payload: dict[str, Any] = {"applicant_id": applicant_id, "type": kycaid_type}
            ordered = sorted(document.files.all(), key=lambda f: (_SIDE_ORDER.get(f.side, 3), f.created_at))
            for slot, row in zip(self._slots_for(ordered), ordered, strict=False):
                file_id = files.get(str(row.pk))
                if not file_id:
                    with self.creating(verification, f"file {row.pk}", "POST /files") as call:
                        file_id = self._upload(client, row)
                        files[str(row.pk)] = file_id
                        call.remember(provider_data={"kycaid_files": dict(files)})
                payload[slot] = file_id
            if len(ordered) > len(_SLOTS):
                logger.warning("kycaid: document %s has more files than KYCAID has sides; extras not sent", document.pk)
            payload.update(self._document_fields(document))
            kind = f"document {document.pk}"
            document_id = self._find_lost_document(client, verification, applicant_id, payload, documents, kind)
            if document_id:
                documents[str(document.pk)] = document_id
                self.remember(verification, provider_data={"kycaid_documents": dict(documents)}, settles=kind)
            else:
                with self.creating(verification, kind, "POST /documents") as call:
                    document_id = self._id(client.post("/documents", json=payload), "document_id")
                    documents[str(document.pk)] = document_id
                    call.remember(provider_data={"kycaid_documents": dict(documents)})
            self.remember_document(document, document_id)
        if skipped:
            self.remember(verification, provider_data={"kycaid_skipped_documents": skipped})

    def _find_lost_document(
        self,
        client: ProviderHttpClient,
        verification: Verification,
        applicant_id: str,
        payload: Mapping[str, Any],
        known: Mapping[str, str],
        kind: str,
    ) -> str:
        """The KYCAID document an earlier ``POST /documents`` for the same document created although its
        answer was lost, or ``""``. The applicant lists its documents (``GET /applicants/{id}`` →
        ``documents[].document_id``) and each document shows its type and file ids (``GET /documents/{id}``);
        our file ids were uploaded for this document alone, so a document of that type holding exactly them
        is the one."""
        if not self.unanswered(verification, kind):
            return ""
        applicant = self._json(client.get(f"/applicants/{applicant_id}"))
        ours = set(known.values())
        slots = {slot: payload[slot] for slot in _SLOTS if payload.get(slot)}
        for listed in applicant.get("documents") or []:
            document_id = text(listed.get("document_id")) if isinstance(listed, Mapping) else ""
            if not document_id or document_id in ours:
                continue
            found = self._json(client.get(f"/documents/{document_id}"))
            if text(found.get("type")) == payload.get("type") and all(
                text(found.get(slot)) == file_id for slot, file_id in slots.items()
            ):
                return document_id
        return ""

    @staticmethod
    def _slots_for(files: Sequence[DocumentFile]) -> list[str]:
        """Front (or the single page) to ``front_side_id``, back to ``back_side_id``, the rest to others."""
        slots: list[str] = []
        free = list(_SLOTS)
        for row in files:
            wanted = "back_side_id" if row.side == "back" else "front_side_id"
            slot = wanted if wanted in free else next((s for s in free if s.startswith("other")), "")
            if not slot:
                break
            free.remove(slot)
            slots.append(slot)
        return slots

    @staticmethod
    def _document_fields(document: Document) -> dict[str, Any]:
        fields = {
            "document_number": document.number,
            "issue_date": document.issue_date.isoformat() if document.issue_date else "",
            "expiry_date": document.expiry_date.isoformat() if document.expiry_date else "",
        }
        return {key: value for key, value in fields.items() if value}

    def _upload(self, client: ProviderHttpClient, row: DocumentFile) -> str:
        """``POST /files`` (multipart field ``file``). The file name sent is the side, never the user's."""
        extension = {"image/png": ".png", "image/jpeg": ".jpg", "application/pdf": ".pdf"}.get(row.content_type, "")
        with row.file.open("rb") as handle:
            content = handle.read()
        response = client.post("/files", files={"file": (f"{row.side}{extension}", content, row.content_type)})
        return self._id(response, "file_id", "id")

    def _form_payload(self, verification: Verification) -> dict[str, Any]:
        payload: dict[str, Any] = {"external_applicant_id": verification.applicant.reference}
        if verification.provider_applicant_id:
            payload["applicant_id"] = verification.provider_applicant_id
        if self.options.get("REDIRECT_URL"):
            payload["redirect_url"] = str(self.options["REDIRECT_URL"])
        return payload

    def _request_form_url(self, client: ProviderHttpClient, verification: Verification) -> ClientToken:
        """``POST /forms/{form_id}/urls``; KYCAID's docs spell the id ``verificaiton_id``: both are read.
        Each call makes a new (unused, not yet billed) verification at KYCAID; one whose answer is lost is
        reported as a possible duplicate."""
        with self.creating(verification, "form verification", f"POST /forms/{self.form_id}/urls") as call:
            response = client.post(f"/forms/{self.form_id}/urls", json=self._form_payload(verification))
            payload = self._json(response)
            form_url = text(payload.get("form_url"))
            verification_id = text(payload.get("verification_id") or payload.get("verificaiton_id"))
            if not form_url or not verification_id:
                raise PermanentProviderError(
                    "KYCAID answered without form_url or verification_id", provider=self.provider
                )
            attempts = payload.get("verification_attempts_left")
            call.remember(
                provider_verification_id=verification_id,
                provider_data={
                    "kycaid_form": {"form_url": form_url, "form_token": text(payload.get("form_token"))},
                    "kycaid_attempts_left": attempts if isinstance(attempts, int) else None,
                },
            )
        # one-time link without a documented lifetime: no expiry is reported
        return ClientToken(token=text(payload.get("form_token")), link=form_url)

    def _start_form(self, client: ProviderHttpClient, verification: Verification) -> Submission:
        applicant = verification.applicant
        named = bool(applicant.first_name and applicant.last_name)
        if not verification.provider_applicant_id and (named or self._previous_applicant(verification)):
            # pre-fill the form; without names the form creates the applicant from external_applicant_id
            self._ensure_applicant(client, verification)
        form = verification.provider_data.get("kycaid_form") or {}
        if verification.provider_verification_id and form.get("form_url"):
            token = ClientToken(token=text(form.get("form_token")), link=text(form.get("form_url")))
        else:
            token = self._request_form_url(client, verification)
        return Submission(
            state=ProviderState(status=VerificationStatus.AWAITING_USER, provider_status="unused"),
            provider_applicant_id=verification.provider_applicant_id,
            provider_verification_id=verification.provider_verification_id,
            client=token,
        )

    def issue_client_token(self, verification: Verification) -> ClientToken:
        """A new one-time form URL (form mode only; API-mode verifications have no hosted step)."""
        if self.mode != "form":
            raise self._unsupported("hosted-flow links in API mode (set MODE to 'form')")
        client = self.client
        try:
            return self._request_form_url(client, verification)
        finally:
            client.close()

    # --- polling -------------------------------------------------------------------------------------
    def fetch_verification(self, verification: Verification) -> ProviderState:
        """``GET /verifications/{id}``, plus ``GET /applicants/{id}`` once completed (document results)."""
        if not verification.provider_verification_id:
            raise PermanentProviderError("verification has no KYCAID verification id yet", provider=self.provider)
        client = self.client
        try:
            payload = self._json(client.get(f"/verifications/{verification.provider_verification_id}"))
            applicant: dict[str, Any] | None = None
            applicant_id = text(payload.get("applicant_id")) or verification.provider_applicant_id
            if text(payload.get("status")).lower() == "completed" and applicant_id:
                applicant = self._json(client.get(f"/applicants/{applicant_id}"))
        finally:
            client.close()
        attempts = payload.get("verification_attempts_left", verification.provider_data.get("kycaid_attempts_left"))
        return self.state_from(payload, attempts_left=attempts, applicant=applicant)

    # --- documents CRUD ------------------------------------------------------------------------------
    def get_document(self, document: Document) -> DocumentResult:
        """``GET /documents/{id}`` for one of our documents, as a :class:`DocumentResult`."""
        document_id = self._document_id(document)
        client = self.client
        try:
            payload = self._json(client.get(f"/documents/{document_id}"))
        finally:
            client.close()
        result = self.document_result(payload)
        return DocumentResult(
            status=result.status,
            document_id=str(document.pk),
            provider_document_id=result.provider_document_id or document_id,
            reasons=result.reasons,
            fields=result.fields,
        )

    def sync_document(self, document: Document, change: Change | None = None) -> Document:
        """Fetch one document and apply its status and reasons to our row through the transition service."""
        from django.db import transaction

        from django_kyc.models import Document as DocumentModel
        from django_kyc.services import transitions
        from django_kyc.services.audit import Change as ChangeClass
        from django_kyc.status import Source

        result = self.get_document(document)
        change = change or ChangeClass.provider(self.alias, Source.POLL)
        with transaction.atomic():
            locked = DocumentModel.objects.select_for_update().get(pk=document.pk)
            transitions.transition_document(locked, result.status, change, result.reasons)
        return locked

    def update_document(self, document: Document, **extra: Any) -> str:
        """Send our row's current number and dates (plus any KYCAID fields in ``extra``) to KYCAID.

        The verb is not stated in KYCAID's reference; ``PATCH`` (what the Ruby client uses) unless
        ``OPTIONS["DOCUMENT_UPDATE_METHOD"]`` says otherwise.
        """
        document_id = self._document_id(document)
        payload = {**self._document_fields(document), **extra}
        kycaid_type = self.document_type(document.type)
        if kycaid_type:
            payload.setdefault("type", kycaid_type)
        method = str(self.options.get("DOCUMENT_UPDATE_METHOD", "PATCH")).upper()
        client = self.client
        try:
            return self._id(client.request(method, f"/documents/{document_id}", json=payload), "document_id")
        finally:
            client.close()

    def delete_document(self, document: Document) -> None:
        """``DELETE /documents/{id}``; our row forgets the KYCAID id (its own status is left to the caller)."""
        from django_kyc.models import Document as DocumentModel

        document_id = self._document_id(document)
        client = self.client
        try:
            client.delete(f"/documents/{document_id}")
        finally:
            client.close()
        document.provider_document_id = ""
        DocumentModel.objects.filter(pk=document.pk).update(provider_document_id="")

    def _document_id(self, document: Document) -> str:
        if not document.provider_document_id:
            raise PermanentProviderError("document was never sent to KYCAID", provider=self.provider)
        return document.provider_document_id

    # --- webhooks ------------------------------------------------------------------------------------
    @staticmethod
    def sign(body: bytes, token: str | bytes) -> str:
        """KYCAID's ``x-data-integrity``: hex HMAC-SHA512 keyed by the API token over base64(raw body)."""
        key = token.encode() if isinstance(token, str) else token
        return hmac_hex(key, base64.b64encode(body), "sha512")

    def authenticate_webhook(self, webhook: InboundWebhook) -> None:
        signature = webhook.header(SIGNATURE_HEADER)
        if not signature:
            raise WebhookSignatureMissing(f"{SIGNATURE_HEADER} header missing")
        verify_hmac(
            secrets=self.webhook_keys,
            message=base64.b64encode(webhook.body),
            signature=signature,
            algorithm="sha512",
            encoding="hex",
        )

    def parse_webhook(self, webhook: InboundWebhook) -> list[ProviderEvent]:
        try:
            payload = json.loads(webhook.body)
        except ValueError as exc:
            raise WebhookPayloadError("KYCAID callback is not JSON") from exc
        if not isinstance(payload, dict):
            raise WebhookPayloadError("KYCAID callback is not a JSON object")
        event_type = text(payload.get("type")).upper() or "UNKNOWN"
        verification_id = text(payload.get("verification_id"))
        # request_id is KYCAID's delivery id; without one, byte-identical redeliveries still de-duplicate
        event_id = text(payload.get("request_id")) or "sha256:" + hashlib.sha256(webhook.body).hexdigest()
        if not verification_id:
            logger.info("kycaid: %s callback without verification_id acknowledged and ignored", event_type)
            return []
        state: ProviderState | None
        if event_type == "VERIFICATION_STATUS_CHANGED":
            attempts = payload.get("verification_attempts_left")
            state = self.state_from(payload, status_key="verification_status", attempts_left=attempts)
        elif event_type == "VERIFICATION_COMPLETED":
            state = self._completed_state(payload)
        else:
            state = None  # a type the docs do not describe: fetch the verification instead of guessing
        return [
            ProviderEvent(
                event_id=event_id,
                event_type=event_type,
                provider_ref=verification_id,
                occurred_at=None,
                state=state,
            )
        ]

    def _completed_state(self, payload: Mapping[str, Any]) -> ProviderState | None:
        """The completed state, or ``None`` (fetch on notify) when the decline policy needs the attempts count.

        ``VERIFICATION_COMPLETED`` does not carry ``verification_attempts_left``. In form mode that count is
        known from the form URL response and ``VERIFICATION_STATUS_CHANGED``, both stored on the
        verification, so the decision is taken in :meth:`fetch_verification`. In API mode there is no form
        attempt counter and the count is treated as unlimited.
        """
        attempts = payload.get("verification_attempts_left")
        state = self.state_from(payload, attempts_left=attempts)
        needs_attempts = (
            self.mode == "form"
            and "verification_attempts_left" not in payload
            and state.status == VerificationStatus.RESUBMISSION_REQUESTED
        )
        return None if needs_attempts else state
