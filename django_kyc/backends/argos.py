"""ARGOS Identity "ID check": identity verification on ARGOS's hosted Liveform, results read over REST.

ARGOS is Liveform-first: the person always captures their document and selfie on ARGOS's hosted page, and
the REST API (``https://rest-api.argosidentity.com/v3``, header ``x-api-key``) reads and manages the
results. Nothing exists at ARGOS until the person starts on the Liveform, so "submitting" a verification
means building its Liveform link with our verification id as ``userid``: starting again after a crash
cannot create a second record at ARGOS (idempotency is natural). The submission task still makes one API
call, listing the submissions of that ``userid``: it proves the credentials work before a person is sent
to the page, and picks up a submission the person already made.

One person can make several submissions under the same link (a retry after a rejection, a second tab).
ARGOS's FAQ says results can arrive out of order and to link the **most recent approved** submission: so
the state of a verification is always computed from *all* of its ``userid``'s submissions — the most recent
approved one wins, otherwise the most recent one — and an older submission can never regress it.

Webhooks carry no signature. Authenticity rests on (1) the source address: ARGOS sends from a fixed egress
IP per project, checked against ``ALLOWED_IPS`` on ``REMOTE_ADDR`` (``X-Forwarded-For`` only when the
site opts in with ``TRUST_FORWARDED_FOR``), (2) optionally, the body being AES-256-ECB ciphertext under a
key only ARGOS and we hold, and (3) fetch-on-notify: a webhook is only a "go and look" signal, every state
is read back over the authenticated API before anything is applied.

Options: ``ArgosBackend.option_specs``, documented in ``docs/providers/argos.md``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import re
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from datetime import timezone as dt_timezone
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlencode

import requests

from django_kyc.backends.argos_monitoring import ENROLLED, NOT_ENROLLED, UNKNOWN, read_enrolment
from django_kyc.backends.base import (
    AmlHitResult,
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
from django_kyc.backends.http import ProviderHttpClient
from django_kyc.backends.options import boolean, dictionary, integer, strings
from django_kyc.backends.parsing import iso_date, iso_datetime, mapping
from django_kyc.backends.signing import check_source_ip, source_ip
from django_kyc.exceptions import (
    PermanentProviderError,
    ProviderError,
    TransientProviderError,
    UnsupportedFeature,
    WebhookAuthenticationError,
    WebhookPayloadError,
)
from django_kyc.status import AmlStatus, DocumentStatus, VerificationStatus

if TYPE_CHECKING:
    from django_kyc.models import AmlCheck, Applicant, Verification

logger = logging.getLogger("django_kyc.argos")

DEFAULT_BASE_URL = "https://rest-api.argosidentity.com/v3"
DEFAULT_LIVEFORM_URL = "https://form.argosidentity.com/"
#: The fixed egress IP ARGOS's network-security page shows (each project's own is in the dashboard).
DEFAULT_ALLOWED_IPS = ("52.78.194.237",)
#: ``provider_status`` of a verification whose person has not started on the Liveform yet.
NO_SUBMISSION = "no_submission"
#: ARGOS's answers to deleting a submission it does not hold (or no longer holds): "… Data" and "… ID".
ALREADY_DELETED = re.compile(r"not\s+exist\s+submission\s+(data|id)\b", re.IGNORECASE)
#: ``data`` fields a deleted submission keeps ("ID type"; the ids, dates and result sit outside ``data``).
RETAINED_DATA = frozenset({"idType"})

V = VerificationStatus

#: ARGOS's body error codes (GET/POST submission pages) → what they mean for whoever reads ``last_error``.
ERROR_CODES: Mapping[str, str] = {
    "invalid_payload": "ARGOS could not parse the request body",
    "missing_data": "a required field is missing from the request",
    "invalid_project": "the project is not valid for this API key (check PROJECT_ID and API_KEY)",
    "invalid_admin": "the ADMIN account is not an administrator of this ARGOS project",
    "invalid_parameter": "the request has a parameter ARGOS does not accept",
    "invalid_format": "a request parameter has the wrong format",
    "processing_error": "ARGOS failed to process the request",
}


def argos_error_message(response: requests.Response) -> str:
    """One place for ARGOS's error bodies, which differ per endpoint: ``{"errorCode": "invalid_payload"}``,
    ``{"message": "not Exist Submission ID", "statusCode": 400}``, API Gateway's ``{"message":
    "Forbidden"}``. Known codes get a plain-language explanation; the vendor's own words are kept."""
    try:
        payload = response.json()
    except ValueError:
        payload = None
    code = message = ""
    if isinstance(payload, Mapping):
        code = str(payload.get("errorCode") or "").strip()
        message = str(payload.get("message") or payload.get("Message") or "").strip()
    parts = []
    if code:
        parts.append(f"{code}: {ERROR_CODES[code]}" if code in ERROR_CODES else code)
    if message and message != code:
        parts.append(message)
    text = " — ".join(parts) or response.reason or "error"
    if response.status_code == 403:
        text += " (check API_KEY, and that ARGOS's IP allow-list admits this server)"
    return text[:500]


# --- Secure Data Transmission: AES-256-ECB -----------------------------------------------------------
# ARGOS's choice, not ours: ECB has no IV and no integrity, identical blocks encrypt identically. It keeps
# the body secret from whoever lacks the key; it does not prove who sent it, so decrypted webhooks are still
# only hints (fetch-on-notify) and the IP allow-list stays on.


def encryption_key(secret: str) -> bytes:
    """ARGOS's key: the 32-byte SHA-256 digest of the API key (or of the dashboard's ``secretKey``)."""
    return hashlib.sha256(secret.encode("utf-8")).digest()


def ecb_encrypt(key: bytes, plaintext: bytes) -> str:
    """AES-256-ECB with PKCS#7 padding, base64 text (the encoding the vendor's examples imply)."""
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()  # noqa: S305 - the vendor's protocol
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode("ascii")


def ecb_decrypt(key: bytes, text: str) -> bytes:
    """Inverse of :func:`ecb_encrypt`; ``ValueError`` for anything that is not such a ciphertext."""
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64") from exc
    if not raw or len(raw) % 16:
        raise ValueError("not a whole number of AES blocks")
    decryptor = Cipher(algorithms.AES(key), modes.ECB()).decryptor()  # noqa: S305 - the vendor's protocol
    padded = decryptor.update(raw) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(padded) + unpadder.finalize()


# --- parsing helpers ---------------------------------------------------------------------------------


def parse_timestamp(value: Any) -> datetime | None:
    """ARGOS's ``YYYY-MM-DD-HH-MM-SS-mmm`` (UTC, as on the GET page) or ISO 8601; ``None`` otherwise."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    parts = text.split("-")
    if len(parts) in (6, 7) and all(part.isdigit() for part in parts):
        numbers = [int(part) for part in parts]
        millis = numbers[6] if len(numbers) == 7 else 0
        try:
            year, month, day, hour, minute, second = numbers[:6]
            return datetime(year, month, day, hour, minute, second, millis * 1000, tzinfo=dt_timezone.utc)
        except ValueError:
            return None
    return iso_datetime(text)


def _strings(value: Any) -> list[str]:
    """``commentCode`` / ``retryCode`` are lists in the examples and strings on the field table: both."""
    if value is None or value == "":
        return []
    items = value if isinstance(value, list | tuple) else [value]
    return [str(item) for item in items if item not in (None, "")]


def _float(value: Any) -> float | None:
    try:
        return None if value is None or isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        return None


def _as_uuid(value: Any) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return ""


def _result(submission: Mapping[str, Any]) -> str:
    kyc = submission.get("kyc")
    return str(kyc.get("result") or "") if isinstance(kyc, Mapping) else ""


def _sort_key(submission: Mapping[str, Any]) -> tuple[datetime, str]:
    moment = parse_timestamp(submission.get("created_at")) or datetime.min.replace(tzinfo=dt_timezone.utc)
    return moment, str(submission.get("submission_id") or "")


def pick_submission(submissions: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    """ARGOS's FAQ rule: the most recent **approved** submission, else the most recent one. An older
    submission (a late reject of an abandoned attempt) can therefore never displace an approval."""
    approved = [item for item in submissions if _result(item) == "approved"]
    return max(approved or submissions, key=_sort_key)


def _isoformat(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""


def _latest_update(submissions: Iterable[Mapping[str, Any]]) -> datetime | None:
    moments = []
    for item in submissions:
        kyc = mapping(item.get("kyc"))
        for value in (item.get("updated_at"), item.get("kyc_result_at"), item.get("created_at"), kyc.get("updated_at")):
            moment = parse_timestamp(value)
            if moment:
                moments.append(moment)
    return max(moments) if moments else None


class SpilledGroups:
    """JSON objects grouped by key through an anonymous temporary file, for :meth:`ArgosBackend.reconcile`.

    ``GET /submission`` lists a project's whole book newest first, across users, and a user's state needs
    all of their submissions, so nothing can be yielded before the last page. Held as parsed JSON the book
    costs about 3 KB of memory per submission (reconciling 100,000 peaked at 382 MB, ``bench/bulk.py``);
    here each object goes to the file as it arrives and memory keeps only each key's file offsets, about
    0.2 KB per user (89 MB for the same 100,000). The submissions carry names, birth dates and document
    numbers, which must not rest on disk in clear, so every line is encrypted under a Fernet key that exists
    only in this object. Groups come back in the order their keys were first added, the objects of a group in
    the order they were added.
    """

    def __init__(self) -> None:
        from cryptography.fernet import Fernet

        self._fernet = Fernet(Fernet.generate_key())
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close() / the context manager
        self._offsets: dict[str, list[int]] = {}
        self._end = 0

    def add(self, key: str, item: Mapping[str, Any]) -> None:
        line = self._fernet.encrypt(json.dumps(item, separators=(",", ":")).encode("utf-8")) + b"\n"
        self._file.seek(self._end)
        self._file.write(line)
        self._offsets.setdefault(key, []).append(self._end)
        self._end += len(line)

    def _read(self, offset: int) -> dict[str, Any]:
        self._file.seek(offset)
        item: dict[str, Any] = json.loads(self._fernet.decrypt(self._file.readline().rstrip(b"\n")))
        return item

    def __iter__(self) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        for key, offsets in self._offsets.items():
            yield key, [self._read(offset) for offset in offsets]

    def __len__(self) -> int:
        return len(self._offsets)

    def close(self) -> None:
        self._file.close()
        self._offsets = {}

    def __enter__(self) -> SpilledGroups:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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
    #: Honest: no document upload (the Liveform captures everything) and no crypto AML.
    capabilities = frozenset(
        {
            Capability.HOSTED_FLOW,
            Capability.POLLING,
            Capability.WEBHOOKS,
            Capability.RECONCILE,
            Capability.PUSH_DECISION,
            Capability.AML,
            Capability.AML_REPORT,
            Capability.DELETE,
        }
    )
    capability_notes = {Capability.PUSH_DECISION: "`PUSH_DECISIONS`"}
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
            "(`POST /submission/aml/monitor/{worklistId}`). Unset: no enrolment from here.",
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

    #: ``kyc.result`` → our statuses (providers.md §3.3). ``pending`` waits for a person (ARGOS's agents, or
    #: ours when the project's reviewer is "Client"); ``incomplete`` means the person stopped mid-flow (ARGOS
    #: turns it into ``rejected`` after about 24 h).
    STATUS_MAP: ClassVar[Mapping[str, str]] = {
        "approved": V.APPROVED,
        "rejected": V.DECLINED,
        "pending": V.REVIEW,
        "incomplete": V.AWAITING_USER,
    }
    #: A result we do not know is kept raw and goes to a person, never to a decision (``UNKNOWN_STATUS``).
    #: ``webhook_trigger`` values (providers.md §3.4) → our event types. None of them carries a state we
    #: apply: each one makes the processing task fetch the submissions (fetch-on-notify). What the fetched
    #: state then is: ``created`` → ``incomplete`` (awaiting_user), ``retry`` → an incomplete submission whose
    #: last attempt failed (resubmission_requested), ``submit`` → ``pending`` (review), ``approved`` /
    #: ``rejected`` → the decision; ``updated`` / ``injection`` / ``delete`` / ``aml`` / ``aml_monitor`` /
    #: ``token_expired`` leave the KYC result as it is (AML results are read by AML checks).
    TRIGGERS: ClassVar[Mapping[str, str]] = {
        "created": "submission.created",
        "retry": "submission.retry",
        "submit": "submission.pending",
        "approved": "submission.approved",
        "rejected": "submission.rejected",
        "updated": "submission.updated",
        "delete": "submission.deleted",
        "injection": "submission.injection",
        "aml": "aml.screened",
        "aml_monitor": "aml.monitoring",
        "token_expired": "token.expired",
    }
    #: Our decisions as ARGOS review statuses (``POST /submission/review`` knows only these two).
    DECISION_MAP: ClassVar[Mapping[str, str]] = {V.APPROVED: "approved", V.DECLINED: "rejected"}
    #: ``data.idType`` → our document types.
    DOCUMENT_TYPES: ClassVar[Mapping[str, str]] = {
        "passport": "passport",
        "government_id": "id_card",
        "drivers_license": "driving_licence",
        "residence_permit": "residence_permit",
    }
    #: ``aml.currentstatus``: ``Not Screened`` means no red flag was raised (clear), ``Red Flag`` a match.
    AML_STATUS_MAP: ClassVar[Mapping[str, str]] = {
        "Not Screened": AmlStatus.CLEAR,
        "Red Flag": AmlStatus.POTENTIAL_MATCH,
    }

    # --- options -------------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return str(self.options.get("BASE_URL") or DEFAULT_BASE_URL)

    @property
    def encrypted(self) -> bool:
        return str(self.options.get("ENCRYPTION") or "").strip().lower() == "ecb"

    @property
    def key(self) -> bytes:
        return encryption_key(str(self.options.get("SECRET_KEY") or self.options["API_KEY"]))

    @property
    def allowed_ips(self) -> list[str]:
        value = self.options.get("ALLOWED_IPS", DEFAULT_ALLOWED_IPS)
        return [value] if isinstance(value, str) else [str(item) for item in value or ()]

    @property
    def admin(self) -> str:
        return str(self.options.get("ADMIN") or "")

    def _require_admin(self, purpose: str) -> str:
        if not self.admin:
            # a provider error, not a configuration error: the task records it where reviewers see it
            raise PermanentProviderError(
                f'OPTIONS["ADMIN"] (an ARGOS dashboard admin email) is required to {purpose}', provider=self.provider
            )
        return self.admin

    @cached_property
    def client(self) -> ProviderHttpClient:
        return self.http_client(
            self.base_url, headers={"x-api-key": str(self.options["API_KEY"])}, error_message=argos_error_message
        )

    # --- the API -------------------------------------------------------------------------------------
    def _json(self, response: requests.Response) -> Any:
        """The answer as JSON, decrypted when ARGOS flags it ``isEncrypted``; an ``errorCode`` in a 2xx
        body is still an error."""
        try:
            payload = response.json()
        except ValueError as exc:
            raise TransientProviderError(
                "ARGOS answered with something that is not JSON", provider=self.provider
            ) from exc
        if isinstance(payload, Mapping) and payload.get("isEncrypted") and isinstance(payload.get("data"), str):
            try:
                payload = json.loads(ecb_decrypt(self.key, payload["data"]))
            except ValueError as exc:
                raise PermanentProviderError(
                    "could not decrypt ARGOS's answer: check API_KEY / SECRET_KEY", provider=self.provider
                ) from exc
        if isinstance(payload, Mapping) and payload.get("errorCode"):
            raise PermanentProviderError(argos_error_message(response), provider=self.provider)
        return payload

    def _body(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """A request body; with ``ENCRYPTION`` the whole object travels encrypted as ``body`` (seed §6)."""
        if not self.encrypted:
            return dict(payload)
        return {"body": ecb_encrypt(self.key, json.dumps(payload, separators=(",", ":")).encode())}

    def iter_submissions(self, **query: Any) -> Iterator[dict[str, Any]]:
        """``GET /submission`` with ``userid`` / ``email`` / ``start_date`` / ``end_date`` / ``request_type``,
        walking **every** page: ``nextpageKey {id, created_at}`` comes back as ``nextpage_id`` /
        ``nextpage_date`` until ARGOS sends no key."""
        params = {name: value for name, value in query.items() if value not in (None, "")}
        params["count"] = int(self.options.get("PAGE_SIZE") or 50)
        seen: set[tuple[str, str]] = set()
        while True:
            page = self._json(self.client.get("submission", params=params))
            if not isinstance(page, Mapping):
                raise TransientProviderError("GET /submission answered without a JSON object", provider=self.provider)
            for item in page.get("Items") or []:
                if isinstance(item, dict):
                    yield item
            key = page.get("nextpageKey")
            if not isinstance(key, Mapping) or not key.get("id"):
                return
            marker = (str(key.get("id")), str(key.get("created_at") or ""))
            if marker in seen:  # a provider bug must not become an endless loop
                raise TransientProviderError("GET /submission repeated a page key", provider=self.provider)
            seen.add(marker)
            params["nextpage_id"], params["nextpage_date"] = marker

    def get_submission(self, submission_id: str, request_type: str = "") -> dict[str, Any]:
        """One submission by ``submission_id``; a permanent error if ARGOS has none."""
        items = list(self.iter_submissions(submission_id=submission_id, request_type=request_type))
        for item in items:
            if str(item.get("submission_id")) == submission_id:
                return item
        raise PermanentProviderError(f"ARGOS has no submission {submission_id}", provider=self.provider)

    def submissions_of(self, verification: Verification) -> list[dict[str, Any]]:
        """Every submission made through this verification's Liveform link (``userid`` = its id)."""
        return list(self.iter_submissions(userid=str(verification.pk)))

    # --- Liveform ------------------------------------------------------------------------------------
    def liveform_parameters(self, verification: Verification) -> dict[str, str]:
        applicant = verification.applicant
        params = {"userid": str(verification.pk)}
        if applicant.email:
            params["email"] = applicant.email
        fields = self.options.get("CUSTOM_FIELDS") or {"cf1": "reference"}
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
        query: dict[str, str] = {"pid": str(self.options["PROJECT_ID"])}
        if self.encrypted:
            query["encrypted"] = ecb_encrypt(self.key, json.dumps(params, separators=(",", ":")).encode())
        else:
            query.update(params)
        base = str(self.options.get("LIVEFORM_URL") or DEFAULT_LIVEFORM_URL)
        return f"{base}{'&' if '?' in base else '?'}{urlencode(query)}"

    # --- verifications -------------------------------------------------------------------------------
    def start_verification(self, verification: Verification) -> Submission:
        """The Liveform link; nothing is created at ARGOS, so this is idempotent by construction. The one
        call (the ``userid``'s submissions) checks the credentials and resumes a submission already made."""
        submissions = self.submissions_of(verification)
        chosen = pick_submission(submissions) if submissions else None
        state = self.state_from(chosen, submissions) if chosen else self._no_submission()
        return Submission(
            state=state,
            provider_verification_id=str(chosen.get("submission_id") or "") if chosen else "",
            client=ClientToken(link=self.liveform_link(verification)),
        )

    def issue_client_token(self, verification: Verification) -> ClientToken:
        """The same link again (it does not expire) while the person still has something to do there."""
        if verification.status not in (V.PENDING, V.AWAITING_USER, V.RESUBMISSION_REQUESTED):
            return ClientToken()
        return ClientToken(link=self.liveform_link(verification))

    def fetch_verification(self, verification: Verification) -> ProviderState:
        """All of the verification's submissions, reduced by the FAQ rule; the chosen submission's id is
        committed as ``provider_verification_id`` when it changes (a second submission won)."""
        submissions = self.submissions_of(verification)
        if not submissions:
            return self._no_submission()
        chosen = pick_submission(submissions)
        submission_id = str(chosen.get("submission_id") or "")
        if submission_id and submission_id != verification.provider_verification_id:
            self.remember(verification, provider_verification_id=submission_id)
        return self.state_from(chosen, submissions)

    def _no_submission(self) -> ProviderState:
        return ProviderState(status=V.AWAITING_USER, provider_status=NO_SUBMISSION)

    def state_from(self, submission: Mapping[str, Any], submissions: Sequence[Mapping[str, Any]] = ()) -> ProviderState:
        """Normalise a submission. Kept for reviewers (``provider_data["argos"]``): the result, comment
        codes, reviewer, each attempt's retry codes and liveness / face-similarity scores, and the list of
        the user's submissions. Not kept: images, identity numbers, IP addresses (data minimisation)."""
        raw = _result(submission)
        kyc = mapping(submission.get("kyc"))
        attempts = [item for item in kyc.get("attempts") or [] if isinstance(item, Mapping)]
        status = self.map_status(raw)
        reasons = _strings(kyc.get("commentCode"))
        last = attempts[-1] if attempts else {}
        if (
            raw == "incomplete"
            and last
            and (_strings(last.get("retryCode")) or last.get("verificationResult") == "fail")
        ):
            # the ``retry`` webhook's situation: the last attempt failed and the person has to try again
            status = V.RESUBMISSION_REQUESTED
            reasons = reasons or _strings(last.get("retryCode"))
        liveness = _float(last.get("livenessScore"))
        if liveness is None and isinstance(last.get("liveness"), Mapping):
            liveness = _float(last["liveness"].get("score"))
        similarity = _float(last.get("faceSimilarityScore"))
        if liveness is not None:
            reasons.append(f"liveness_score:{liveness:g}")
        if similarity is not None:
            reasons.append(f"face_similarity_score:{similarity:g}")
        argos = {
            "submission_id": str(submission.get("submission_id") or ""),
            "applicant_id": str(submission.get("applicant_id") or ""),
            "result": raw,
            "comment": _strings(kyc.get("comment")),
            "comment_code": _strings(kyc.get("commentCode")),
            "reviewer": str(submission.get("reviewer") or ""),
            "attempts": [
                {
                    "attempt": item.get("attemptCnt"),
                    "verification_result": item.get("verificationResult"),
                    "retry_code": _strings(item.get("retryCode")),
                    "error_code": _strings(item.get("errorCode")),
                    "liveness_score": _float(item.get("livenessScore")),
                    "face_similarity_score": _float(item.get("faceSimilarityScore")),
                }
                for item in attempts
            ],
            "liveness_score": liveness,
            "face_similarity_score": similarity,
            "submissions": [
                {
                    "submission_id": str(item.get("submission_id") or ""),
                    "result": _result(item),
                    "created_at": item.get("created_at"),
                    "updated_at": _isoformat(_latest_update([item])),
                }
                for item in sorted(submissions or [submission], key=_sort_key)
            ],
        }
        data = mapping(submission.get("data"))
        documents: tuple[DocumentResult, ...] = ()
        applicant_data: dict[str, Any] = {}
        if raw in ("approved", "rejected"):
            document = self._document(submission, data, raw)
            documents = (document,) if document else ()
        if raw == "approved" and iso_date(data.get("date_of_birth")):
            applicant_data = {"date_of_birth": iso_date(data.get("date_of_birth"))}
        return ProviderState(
            status=status,
            provider_status=raw or "(empty)",
            reasons=tuple(reasons),
            occurred_at=_latest_update(submissions or [submission]),
            documents=documents,
            data={"argos": argos},
            applicant_data=applicant_data,
        )

    def _document(self, submission: Mapping[str, Any], data: Mapping[str, Any], raw: str) -> DocumentResult | None:
        number = str(data.get("documentNumber") or "").strip()
        if not number:
            return None
        return DocumentResult(
            status=DocumentStatus.ACCEPTED if raw == "approved" else DocumentStatus.REJECTED,
            provider_document_id=f"argos-{submission.get('submission_id')}",
            fields={
                "type": self.DOCUMENT_TYPES.get(str(data.get("idType") or ""), "other"),
                "number": number[:64],
                "issue_date": iso_date(data.get("idcard_issueDate")),
                "expiry_date": iso_date(data.get("idcard_expireDate")),
            },
        )

    # --- reviewer decisions ----------------------------------------------------------------------------
    def push_decision(self, verification: Verification, status: str, reason: str = "", reason_code: str = "") -> None:
        """``POST /submission/review`` for the pending submission (the project's reviewer is "Client")."""
        target = self.DECISION_MAP.get(status)
        if target is None:
            raise UnsupportedFeature(self.provider, f"pushing a {status!r} decision (ARGOS reviews approve or reject)")
        admin = self._require_admin("push reviewer decisions")
        pending = [item for item in self.submissions_of(verification) if _result(item) == "pending"]
        if not pending:
            raise PermanentProviderError("ARGOS has no pending submission to review", provider=self.provider)
        held = [item for item in pending if str(item.get("submission_id")) == verification.provider_verification_id]
        submission = (held or [max(pending, key=_sort_key)])[0]
        body: dict[str, Any] = {"admin": admin, "submissionId": str(submission["submission_id"]), "status": target}
        if target == "rejected":
            # ARGOS requires a reject comment: the reviewer's own words, else their reason code
            body["rejectComment"] = (reason or reason_code or "Declined by reviewer")[:500]
        answer = self._json(self.client.post("submission/review", json=self._body(body)))
        final = str(answer.get("finalStatus") or "") if isinstance(answer, Mapping) else ""
        if final and final != target:
            raise PermanentProviderError(f"ARGOS recorded {final!r}, not {target!r}", provider=self.provider)

    # --- reconciliation --------------------------------------------------------------------------------
    def reconcile(self, since: datetime | None = None) -> Iterator[ProviderEvent]:
        """Walk every page of ``GET /submission`` (from ``since``'s date on) and yield one event per
        verification of ours, its state computed by the FAQ rule. With ``since``, a user seen in the window
        has all their submissions read again, so an approval made before the window still wins.
        Submissions without one of our ``userid``s (made outside our links) are skipped."""
        query = {"start_date": since.date().isoformat()} if since else {}
        with SpilledGroups() as groups:  # the whole book in memory would be ~3 KB per submission
            for item in self.iter_submissions(**query):
                our_ref = _as_uuid(item.get("userid"))
                if our_ref:
                    groups.add(our_ref, item)
            for our_ref, items in groups:
                submissions = list(self.iter_submissions(userid=our_ref)) if since else items
                chosen = pick_submission(submissions or items)
                state = self.state_from(chosen, submissions or items)
                submission_id = str(chosen.get("submission_id") or "")
                yield ProviderEvent(
                    event_id=f"reconcile:{submission_id}:{state.provider_status}:{state.occurred_at or ''}",
                    event_type="submission.reconciled",
                    provider_ref=submission_id,
                    our_ref=our_ref,
                    occurred_at=state.occurred_at,
                    state=state,
                )

    # --- webhooks ------------------------------------------------------------------------------------
    def webhook_payload(self, webhook: InboundWebhook) -> dict[str, Any]:
        """The delivery as a JSON object, decrypted when ``ENCRYPTION`` is on (a plain body is then refused,
        and so is one that does not decrypt with our key)."""
        try:
            payload = json.loads(webhook.body)
        except ValueError as exc:
            raise WebhookPayloadError("webhook body is not JSON") from exc
        if not isinstance(payload, dict):
            raise WebhookPayloadError("webhook body is not a JSON object")
        if self.encrypted:
            if not isinstance(payload.get("data"), str) or "webhook_trigger" in payload:
                raise WebhookAuthenticationError("ENCRYPTION is on but the webhook body is not encrypted")
            try:
                payload = json.loads(ecb_decrypt(self.key, payload["data"]))
            except ValueError as exc:
                raise WebhookAuthenticationError("webhook body does not decrypt with our key") from exc
            if not isinstance(payload, dict):
                raise WebhookAuthenticationError("decrypted webhook body is not a JSON object")
        if not isinstance(payload.get("webhook_trigger"), str) or not payload["webhook_trigger"]:
            raise WebhookPayloadError("webhook has no webhook_trigger")
        return payload

    def authenticate_webhook(self, webhook: InboundWebhook) -> None:
        """Source address first (the only real control), then the body (decryption when configured), then
        the ``userid``: when it is one of our ids it must name a verification of this alias."""
        trusted = int(self.options.get("TRUST_FORWARDED_FOR") or 0)
        address = source_ip(webhook.remote_addr, webhook.header("X-Forwarded-For"), trusted)
        check_source_ip(address, self.allowed_ips)
        payload = self.webhook_payload(webhook)
        our_ref = _as_uuid(payload.get("userid"))
        if our_ref:
            from django_kyc.models import Verification

            if not Verification.objects.filter(pk=our_ref, backend=self.alias).exists():
                # our links carry our verification ids: one we never issued is not a delivery for us
                raise WebhookAuthenticationError("webhook names no verification of this backend")

    def parse_webhook(self, webhook: InboundWebhook) -> list[ProviderEvent]:
        """One event per (submission, trigger, update time). ``state`` is always ``None``: the processing task
        fetches the submissions before anything is applied. A delivery for a submission made outside our links
        (no ``userid`` of ours) yields nothing: answered 200, stored nowhere.

        Nothing in the delivery is signed, so the event id is a claim (:attr:`ProviderEvent.claim`): it holds
        its de-duplication key only once the fetched submissions show that submission updated that late (and,
        for ``approved`` / ``rejected``, with that result). A forged delivery naming a future update therefore
        cannot make the genuine one look like a repeat."""
        payload = self.webhook_payload(webhook)
        trigger = str(payload["webhook_trigger"])
        submission_id = str(payload.get("submission_id") or "")
        our_ref = _as_uuid(payload.get("userid"))
        if not our_ref:
            logger.info("argos webhook %s for a submission not made through our links: ignored", trigger)
            return []
        result = mapping(payload.get("kyc_result"))
        updated = str(result.get("updated_at") or payload.get("updated_at") or "")
        claim = {"submission_id": submission_id, "trigger": trigger, "updated_at": updated}
        return [
            ProviderEvent(
                event_id=f"{submission_id or our_ref}:{trigger}:{updated}",
                event_type=self.TRIGGERS.get(trigger, f"argos.{trigger}")[:128],
                provider_ref=submission_id,
                our_ref=our_ref,
                occurred_at=parse_timestamp(updated),
                state=None,
                claim=json.dumps(claim, sort_keys=True, separators=(",", ":")),
            )
        ]

    def claim_confirmed(self, event: ProviderEvent, state: ProviderState) -> bool:
        """The fetched submissions include the delivery's submission, updated at least as late as it says,
        and with the result an ``approved`` / ``rejected`` trigger names."""
        try:
            claim = json.loads(event.claim)
        except ValueError:
            return False
        if not isinstance(claim, Mapping) or not claim.get("submission_id"):
            return False
        submissions = mapping(state.data.get("argos")).get("submissions") or []
        found = next(
            (
                item
                for item in submissions
                if isinstance(item, Mapping) and item.get("submission_id") == claim["submission_id"]
            ),
            None,
        )
        if found is None:
            return False
        if claim.get("trigger") in self.DECISION_MAP.values() and found.get("result") != claim["trigger"]:
            return False
        claimed_at = parse_timestamp(claim.get("updated_at"))
        if claimed_at is None:
            return True
        updated_at = iso_datetime(found.get("updated_at"))
        return updated_at is not None and updated_at >= claimed_at

    # --- AML -----------------------------------------------------------------------------------------
    def _aml_submission(self, aml_check: AmlCheck) -> dict[str, Any]:
        """The submission an applicant check reads: the FAQ-rule choice of their latest ARGOS verification."""
        from django_kyc.models.aml import AmlSubject

        if aml_check.subject != AmlSubject.APPLICANT:
            raise UnsupportedFeature(self.provider, f"AML screening of a {aml_check.subject}")
        verifications = aml_check.applicant.verifications.filter(backend=self.alias).order_by("-created_at")
        for verification in verifications:
            submissions = self.submissions_of(verification)
            if submissions:
                return dict(pick_submission(submissions))
        raise PermanentProviderError(
            "no ARGOS submission to screen: the applicant has not completed the Liveform", provider=self.provider
        )

    def screen(self, aml_check: AmlCheck) -> AmlResult:
        """ARGOS screens by itself once a submission is approved; this reads the ``aml`` block. Before the
        approval the check is ``running`` (polled until ARGOS has screened); a rejected submission is never
        screened. With ``AML_WORKLIST_ID`` the approved submission is enrolled in ongoing monitoring."""
        submission = self._aml_submission(aml_check)
        submission_id = str(submission.get("submission_id") or "")
        raw = _result(submission)
        aml = mapping(submission.get("aml"))
        current = str(aml.get("currentstatus") or "")
        if raw == "rejected" and not current:
            raise PermanentProviderError("ARGOS does not screen rejected submissions", provider=self.provider)
        if raw != "approved" or not current:
            return AmlResult(status=AmlStatus.RUNNING, provider_status=current or raw, provider_check_id=submission_id)
        status = self.AML_STATUS_MAP.get(current, AmlStatus.POTENTIAL_MATCH)  # unknown: a person looks
        hits = self._hits(submission_id, aml) if status == AmlStatus.POTENTIAL_MATCH else ()
        scores = [hit.score for hit in hits if hit.score is not None]
        summary = str(aml.get("risk_level_summary") or "")
        data: dict[str, Any] = {"submission_id": submission_id, "aml": dict(aml)}
        monitored = False
        if self.options.get("AML_WORKLIST_ID"):
            monitored, data["monitoring"] = self._enrol(aml_check, submission_id)
        return AmlResult(
            status=status,
            provider_status=current,
            provider_check_id=submission_id,
            hits=hits,
            data=data,
            score=max(scores) if scores else None,
            risk_level="" if summary == "Not Screened" else summary.lower(),
            monitored=monitored,
        )

    def fetch_aml(self, aml_check: AmlCheck) -> AmlResult:
        return self.screen(aml_check)

    def _hits(self, submission_id: str, aml: Mapping[str, Any]) -> tuple[AmlHitResult, ...]:
        hits: list[AmlHitResult] = []
        for match in aml.get("matches") or []:
            if not isinstance(match, Mapping):
                continue
            resource = str(match.get("resource_id") or "")
            number = str(match.get("argos_number") or "")
            hits.append(
                AmlHitResult(
                    entity_id=resource or number or f"{submission_id}:{len(hits)}",
                    caption=f"ARGOS match {number or resource}".strip(),
                    score=_float(match.get("score")),
                    topics=tuple(str(icon) for icon in match.get("risk_icons") or ()),
                    details={
                        "risk_level": str(match.get("risk_level") or ""),
                        "argos_number": number,
                        "resource_id": resource,
                        "submission_id": submission_id,
                    },
                )
            )
        if not hits:
            # a red flag without details still needs a person: one hit they can resolve
            hits.append(
                AmlHitResult(
                    entity_id=f"{submission_id}:red-flag",
                    caption="ARGOS red flag (no match details returned)",
                    details={"submission_id": submission_id},
                )
            )
        return tuple(hits)

    def _enrol(self, aml_check: AmlCheck, submission_id: str) -> tuple[bool, dict[str, Any]]:
        """``POST /submission/aml/monitor/{worklistId}``, only when the submission is known not to be enrolled.

        Before enrolling: the stored state (earlier checks of the same submission) and, for the record ids
        it holds, ARGOS's own records (``GET /submission/aml/monitor/{worklistId}/{recordId}``). A call that got
        no answer leaves the state ``unknown``, which is never enrolled again automatically: ARGOS has no way to
        list a worklist's records by submission, so a person checks the dashboard (``provider_data["monitoring"]``
        says so). The answer is read leniently (:func:`~django_kyc.backends.argos_monitoring.read_enrolment`)."""
        worklist = str(self.options["AML_WORKLIST_ID"])
        earlier = self._earlier_enrolment(aml_check, submission_id, worklist)
        if earlier is not None:
            return earlier
        body = {"submissionIds": [submission_id], "admin": self._require_admin("enrol ongoing AML monitoring")}
        try:
            answer = self._json(self.client.post(f"submission/aml/monitor/{worklist}", json=self._body(body)))
        except ProviderError as exc:
            if "all_submissions_failed" in exc.message:  # ARGOS's "nothing was registered"
                return False, {"worklist_id": worklist, "state": NOT_ENROLLED, "error": exc.message}
            if exc.status_code is not None and exc.status_code < 500:
                raise  # refused (or rate-limited): nothing registered, the check says why or is retried
            return False, {
                "worklist_id": worklist,
                "state": UNKNOWN,
                "error": f"the enrolment got no answer ({exc.message}); check the worklist in ARGOS's dashboard",
            }
        enrolment = read_enrolment(answer, submission_id)
        data: dict[str, Any] = {"worklist_id": worklist, "state": enrolment.state}
        if enrolment.record_ids:
            data["record_ids"] = list(enrolment.record_ids)
        if enrolment.error:
            data["note" if enrolment.enrolled else "error"] = enrolment.error
        return enrolment.enrolled, data

    def _earlier_enrolment(
        self, aml_check: AmlCheck, submission_id: str, worklist: str
    ) -> tuple[bool, dict[str, Any]] | None:
        """What earlier checks of the same submission recorded about its enrolment in ``worklist``, confirmed
        with ARGOS where record ids are known; ``None`` when it is not (or no longer) enrolled."""
        from django_kyc.models import AmlCheck as AmlCheckModel

        earlier = (
            AmlCheckModel.objects.filter(
                applicant_id=aml_check.applicant_id, backend=self.alias, provider_check_id=submission_id
            )
            .exclude(pk=aml_check.pk)
            .order_by("-created_at")
        )
        for check in earlier:
            monitoring = mapping(mapping(check.provider_data).get("monitoring"))
            if str(monitoring.get("worklist_id") or worklist) != worklist:
                continue
            state = str(monitoring.get("state") or (ENROLLED if check.monitored else ""))
            record_ids = [str(r) for r in monitoring.get("record_ids") or []]
            if state == UNKNOWN:
                return False, {
                    "worklist_id": worklist,
                    "state": UNKNOWN,
                    "error": "an earlier enrolment got no answer; check the worklist in ARGOS's dashboard",
                }
            if state != ENROLLED:
                continue
            if record_ids:
                records = self._monitoring_records(worklist, record_ids, submission_id)
                if not records:
                    return None  # ARGOS no longer holds them: enrol again
                return True, {
                    "worklist_id": worklist,
                    "state": ENROLLED,
                    "enrolled": "earlier",
                    "record_ids": [record["record_id"] for record in records],
                    "records": records,
                }
            return True, {"worklist_id": worklist, "state": ENROLLED, "enrolled": "earlier"}
        return None

    def _monitoring_records(self, worklist: str, record_ids: Sequence[str], submission_id: str) -> list[dict[str, Any]]:
        """ARGOS's monitoring records among ``record_ids`` that still exist for ``submission_id`` (id, status)."""
        found = []
        for record_id in record_ids:
            try:
                record = mapping(self._json(self.client.get(f"submission/aml/monitor/{worklist}/{record_id}")))
            except PermanentProviderError as exc:
                if exc.status_code in (400, 404):
                    continue
                raise
            if str(record.get("submissionId") or submission_id) == submission_id:
                found.append({"record_id": record_id, "status": str(record.get("status") or "")})
        return found

    def aml_report(self, aml_check: AmlCheck) -> tuple[bytes, str]:
        """``GET /report/aml?resourceId=`` for the check's highest-scoring match (ARGOS issues reports for
        Red Flag matches only); fetched on demand, never stored. Other matches: :meth:`aml_report_for`."""
        matches = [
            hit.details.get("resource_id")
            for hit in aml_check.hits.order_by("-score")
            if isinstance(hit.details, Mapping) and hit.details.get("resource_id")
        ]
        if not matches:
            raise PermanentProviderError("no ARGOS AML report: there is no Red Flag match", provider=self.provider)
        return self.aml_report_for(str(matches[0]))

    def aml_report_for(self, resource_id: str) -> tuple[bytes, str]:
        response = self.client.get("report/aml", params={"resourceId": resource_id})
        content = response.content
        if not content.startswith(b"%PDF"):
            raise PermanentProviderError("ARGOS's AML report is not a PDF", provider=self.provider)
        return content, "application/pdf"

    # --- data protection -------------------------------------------------------------------------------
    def delete_applicant(self, applicant: Applicant) -> None:
        """``DELETE /submission`` for every submission of every ARGOS verification of the applicant.
        ARGOS purges personal data, images and AML data and keeps ids, dates and the result (still billed).
        A submission already gone counts as deleted, so the erasure can be retried."""
        admin = self.admin
        for verification in applicant.verifications.filter(backend=self.alias):
            for submission in self.submissions_of(verification):
                params = {"submission_id": str(submission.get("submission_id") or "")}
                if admin:
                    params["admin_name"] = admin  # without it ARGOS sends no ``delete`` webhook
                try:
                    self.client.delete("submission", params=params)
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
