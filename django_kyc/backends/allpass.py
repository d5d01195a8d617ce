"""Allpass.ai (elKYC OÜ) backend, speaking the "Open API" of https://docs.allpass.ai/integration/open-api.

Allpass is a hosted flow: we create an applicant (``POST /api/public/applicant`` with our applicant's
reference as ``externalUserId``), mint a client token (``POST /api/public/applicant/{id}/token`` →
``accessToken`` + ``link``) and the person completes the flow in Allpass's web page or SDK. Results arrive by
webhook and can always be read back with ``GET /api/public/applicant/{id}``.

Three things about this API shape the code:

* Every answer is wrapped in the envelope ``{"status", "statusCode", "data", "time"}``. It is unwrapped in one
  place (:func:`unwrap`), which turns ``status: false`` into the same transient/permanent errors the HTTP
  client raises for HTTP errors, and decrypts ``data`` when Allpass sends it encrypted.
* Webhook bodies are the same envelope with ``data`` **encrypted** with the application's keys: AES-256-CBC
  plus an HMAC key, or AES-256-GCM; the HMAC (CBC) or the GCM tag travels in ``x-allpass-signature``. A
  delivery that does not authenticate or decrypt is refused. Parts the vendor does not specify (what the
  HMAC covers, the GCM IV layout) are options with the most likely default; see ``docs/providers/allpass.md``.
* Retries can deliver an older event after a newer one, and the vendor requires integrators to ignore older
  events. The envelope ``time`` becomes ``ProviderState.occurred_at``, so the transition service drops any
  event older than the last one applied to the verification.

Idempotency: ``externalUserId`` is unique per applicant at Allpass and ``GET /applicant/{id}`` accepts it, so
a submission retried after a crash looks the applicant up by our reference before creating one, and the
Allpass id is committed with :meth:`KycBackend.remember` the moment it is known.

Crypto AML (``POST /api/public/crypto-aml/search`` + ``GET /crypto-aml/{id}/details``) screens wallet
addresses and transactions (:class:`~django_kyc.models.AmlCheck` subjects ``wallet`` / ``transaction``).
Person AML is part of the Allpass flow itself and cannot be started over the API.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

import requests
from django.utils import timezone

from django_kyc.backends.base import (
    AmlHitResult,
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
from django_kyc.backends.http import ProviderHttpClient
from django_kyc.backends.options import boolean, integer, number, raw, secrets, strings
from django_kyc.backends.parsing import iso_datetime, mapping, text
from django_kyc.backends.signing import as_secret_list, constant_time_equals
from django_kyc.exceptions import (
    PermanentProviderError,
    TransientProviderError,
    WebhookAuthenticationError,
    WebhookPayloadError,
    WebhookSignatureMissing,
)
from django_kyc.status import AmlStatus, VerificationStatus

if TYPE_CHECKING:
    from django_kyc.models import AmlCheck, Applicant, Verification

logger = logging.getLogger("django_kyc.allpass")

V = VerificationStatus
PROVIDER = "allpass"
SIGNATURE_HEADER = "x-allpass-signature"
AUTH_HEADER = "x-private-app-key"

WEBHOOK_MODES = ("cbc-hmac", "gcm")
HMAC_INPUTS = ("data", "body")
ENCODINGS = ("hex", "base64")
HMAC_KEY_ENCODINGS = ("utf8", "hex")
GCM_IV_LENGTHS = ("auto", 12, 16)
#: The seed's maximum token lifetime (``ttl`` of ``POST .../token``), in seconds.
MAX_TOKEN_TTL = 3_153_600_000
DEFAULT_TOKEN_TTL = 3600
#: Where the event name may sit in a decrypted webhook payload (the docs do not say; ``type`` is likeliest).
EVENT_FIELDS = ("type", "event", "eventName", "eventType", "webhookType")
#: Allpass documents no error catalogue, so "there is no such applicant" may come as 404 or as a 400 / 422
#: whose message says so; these are the phrasings taken for it (anything else is a real error).
NOT_FOUND_MESSAGE = re.compile(
    r"not\s+(?:been\s+)?found|does\s*(?:not|n't)\s+exists?|not\s+exists?|no\s+(?:such\s+)?applicant",
    re.IGNORECASE,
)
#: ``txHash`` as the seed's pattern has it.
TX_HASH_PATTERN = re.compile(r"^(0x)?[a-fA-F0-9]{64}$")
#: Wallet addresses: every chain's format differs; we only refuse what is obviously not an address.
ADDRESS_PATTERN = re.compile(r"^[A-Za-z0-9:_\-.]{10,128}$")
#: The seed's ``BlockchainEnum`` lists no values (only ``BTC`` appears in an example). These are the chains
#: crypto-AML services commonly cover; ``OPTIONS["BLOCKCHAINS"]`` replaces the list.
DEFAULT_BLOCKCHAINS = ("BTC", "ETH", "LTC", "BCH", "DOGE", "TRX", "BSC", "POLYGON", "SOL", "TON", "XRP", "ADA")
DEFAULT_AML_SCORE_THRESHOLD = 50.0


# --- envelope -----------------------------------------------------------------------------------------


def _message_from(payload: Any) -> str:
    """The human message of an error envelope. Allpass publishes no error catalogue; this reads the fields
    a NestJS API (which the envelope and validation patterns suggest) puts there: ``message`` (a string or
    a list of validation messages), ``error``, or the same inside ``data``."""
    if not isinstance(payload, Mapping):
        return ""
    data = payload.get("data")
    for source in (payload, data):
        if not isinstance(source, Mapping):
            continue
        message = source.get("message")
        if isinstance(message, list):
            text = "; ".join(str(item) for item in message if item)
            if text:
                return text[:500]
        elif message:
            return str(message)[:500]
    for source in (payload, data):
        if isinstance(source, Mapping) and source.get("error"):
            return str(source["error"])[:500]
    if isinstance(data, str) and " " in data.strip():  # a plain sentence, never an encrypted blob
        return data.strip()[:500]
    return ""


def allpass_error_message(response: requests.Response) -> str:
    """The HTTP client's error hook: the envelope's message, else the HTTP reason."""
    try:
        payload = response.json()
    except ValueError:
        return response.reason or f"HTTP {response.status_code}"
    return _message_from(payload) or response.reason or f"HTTP {response.status_code}"


def is_not_found(error: PermanentProviderError) -> bool:
    """Whether Allpass answered "no such applicant": HTTP 404, or 400 / 422 with a message saying so."""
    if error.status_code == 404:
        return True
    return error.status_code in (400, 422) and bool(NOT_FOUND_MESSAGE.search(error.message))


def _error_for(status_code: int, message: str) -> PermanentProviderError | TransientProviderError:
    """The same split the HTTP client makes: 429 and 5xx are worth retrying, other codes are not."""
    if status_code == 429 or status_code >= 500:
        return TransientProviderError(message, provider=PROVIDER, status_code=status_code)
    return PermanentProviderError(message, provider=PROVIDER, status_code=status_code or None)


# --- webhook cryptography -----------------------------------------------------------------------------


def crypto_key_bytes(value: str | bytes) -> bytes:
    """A 32-byte AES key from the dashboard's hex "Crypto key" (the vendor's sample code hex-decodes it)."""
    text = value.decode() if isinstance(value, bytes) else str(value)
    try:
        key = bytes.fromhex(text.strip())
    except ValueError as exc:
        raise ValueError("CRYPTO_KEY must be 64 hexadecimal characters (32 bytes)") from exc
    if len(key) != 32:
        raise ValueError("CRYPTO_KEY must be 64 hexadecimal characters (32 bytes)")
    return key


def _decode_signature(value: str, encoding: str) -> bytes | None:
    try:
        if encoding == "hex":
            return bytes.fromhex(value.strip())
        return base64.b64decode(value.strip(), validate=True)
    except (ValueError, binascii.Error):
        return None


def decrypt_cbc(key: bytes, blob: str) -> bytes:
    """``blob`` = hex IV (first 32 characters) + hex ciphertext, AES-256-CBC with PKCS#7 padding.

    Raises ``ValueError`` for anything that is not a well-formed ciphertext under ``key``.
    """
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    raw = bytes.fromhex(blob)
    iv, ciphertext = raw[:16], raw[16:]
    if len(iv) != 16 or not ciphertext or len(ciphertext) % 16:
        raise ValueError("not an AES-256-CBC ciphertext")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(padded) + unpadder.finalize()


def decrypt_gcm(key: bytes, blob: str, tag: bytes, iv_length: int) -> bytes:
    """``blob`` = hex IV (``iv_length`` bytes) + hex ciphertext; ``tag`` from ``x-allpass-signature``.

    Raises ``ValueError`` when the tag does not verify (wrong key, wrong layout or tampering).
    """
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    raw = bytes.fromhex(blob)
    iv, ciphertext = raw[:iv_length], raw[iv_length:]
    if len(iv) != iv_length or len(tag) != 16:
        raise ValueError("not an AES-256-GCM ciphertext")
    try:
        return AESGCM(key).decrypt(iv, ciphertext + tag, None)
    except InvalidTag as exc:
        raise ValueError("GCM tag does not verify") from exc


def _json_object(plaintext: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(plaintext.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError("decrypted data is not JSON") from exc
    if not isinstance(payload, dict):
        raise ValueError("decrypted data is not a JSON object")
    return payload


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _crypto_keys(value: Any) -> list[bytes]:
    keys = as_secret_list(value)
    for key in keys:
        try:
            crypto_key_bytes(key)
        except ValueError as exc:
            raise ValueError("must be 64 hexadecimal characters (32 bytes): one string or a list of them.") from exc
    return keys


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
    option_specs = (
        Option(
            "PRIVATE_APP_KEY",
            "The application's private key, sent as `x-private-app-key`.",
            required=True,
            secret=True,
        ),
        Option(
            "BASE_URL",
            "The Open API host. Allpass's API reference leaves the host empty, so there is no default.",
            required=True,
            url=True,
        ),
        Option("FLOW_NAME", "`flowName` of the create and token calls (the create call requires it).", required=True),
        Option("LANG", "`lang` of the created applicant (language of results shown to the person)."),
        Option("LOCALE", "`locale` of the token call (e.g. `en-US`).", default_doc="`LANG`"),
        Option(
            "TOKEN_TTL",
            "`ttl` of the token call, seconds, 1 … 3 153 600 000 (Allpass's maximum). The client token's expiry "
            "is the `ttl` Allpass answers with, counted from before the request.",
            coerce=integer(minimum=1, maximum=MAX_TOKEN_TTL),
            default=DEFAULT_TOKEN_TTL,
        ),
        Option(
            "SEND_SUPPLIED_INFO",
            "Send `suppliedInfo` (our applicant's data, for Allpass to compare with the documents).",
            coerce=boolean,
            default=True,
        ),
        Option(
            "WEBHOOK_MODE",
            '`"cbc-hmac"` (AES-256-CBC + HMAC key) or `"gcm"` (AES-256-GCM), whichever the Workplace\'s '
            '"encryption method" is.',
            choices=WEBHOOK_MODES,
            default="cbc-hmac",
        ),
        Option(
            "CRYPTO_KEY",
            'The Workplace "Crypto"/secret key: 64 hex characters (the vendor\'s sample hex-decodes it). One '
            "string or a list, newest first. Without it no webhook is accepted.",
            coerce=_crypto_keys,
            secret=True,
        ),
        Option(
            "HMAC_KEY",
            "The Workplace HMAC key (CBC mode). One string or a list. Without it no CBC webhook is accepted.",
            coerce=secrets,
            secret=True,
        ),
        Option(
            "HMAC_INPUT",
            'What the CBC HMAC covers: the encrypted `data` string, or `"body"` (the raw request body).',
            choices=HMAC_INPUTS,
            default="data",
        ),
        Option(
            "HMAC_KEY_ENCODING",
            'The HMAC key\'s bytes: the string as typed (`"utf8"`) or hex-decoded (`"hex"`).',
            choices=HMAC_KEY_ENCODINGS,
            default="utf8",
        ),
        Option(
            "SIGNATURE_ENCODING",
            'Encoding of `x-allpass-signature` (HMAC or GCM tag): `"hex"` or `"base64"`.',
            choices=ENCODINGS,
            default="hex",
        ),
        Option(
            "GCM_IV_LENGTH",
            'Bytes of IV at the start of a GCM `data`: `12`, `16`, or `"auto"` (tries 12, then 16).',
            coerce=raw,
            choices=GCM_IV_LENGTHS,
            default="auto",
        ),
        Option(
            "EVENT_FIELD",
            "The decrypted payload's event-name field, if Allpass names it something other than `type` / `event` "
            "/ `eventName` / `eventType` / `webhookType` (tried in that order).",
        ),
        Option("APP_KEY", "The application's public key; when set, a delivery whose `appKey` differs is refused."),
        Option(
            "BLOCKCHAINS",
            "Accepted `blockchain` values for crypto AML (upper case).",
            coerce=strings,
            default_doc="see below",
        ),
        Option(
            "AML_SCORE_THRESHOLD",
            "Crypto-AML score (0 to 100) from which an entity is a hit and the check a potential match.",
            coerce=number(minimum=0, maximum=100),
            default=DEFAULT_AML_SCORE_THRESHOLD,
        ),
    )

    #: Applicant ``status`` → ours. Only ``INIT`` is in the seed; the others follow the webhook event names
    #: (providers.md §1.4). ``COMPLETED`` is not a decision: the flow is done and checks have run.
    STATUS_TABLE: ClassVar[Mapping[str, str]] = {
        "INIT": V.AWAITING_USER,
        "INCOMPLETE": V.AWAITING_USER,
        "IN_PROGRESS": V.PROCESSING,
        "COMPLETED": V.PROCESSING,
        "IN_REVIEW": V.REVIEW,
        "ON_HOLD": V.REVIEW,
        "APPROVED": V.APPROVED,
        "REJECTED": V.DECLINED,
    }
    #: Webhook event → the applicant status it announces (providers.md §1.5). ``applicantStepPassed`` is
    #: progress only and is resolved by reading the applicant's current status.
    EVENT_TABLE: ClassVar[Mapping[str, str]] = {
        "applicantCreated": "INIT",
        "applicantIncomplete": "INCOMPLETE",
        "applicantInProgress": "IN_PROGRESS",
        "applicantCompleted": "COMPLETED",
        "applicantInReview": "IN_REVIEW",
        "applicantOnHold": "ON_HOLD",
        "applicantApproved": "APPROVED",
        "applicantRejected": "REJECTED",
    }
    PROGRESS_EVENTS: ClassVar[frozenset[str]] = frozenset({"applicantStepPassed"})
    #: Anything else goes to a person with the raw value kept; never guessed into a decision.
    UNKNOWN_STATUS: ClassVar[str] = V.REVIEW
    #: Our subject → the ``type`` Allpass answers a search with (used if the answer omits it).
    AML_TYPES: ClassVar[Mapping[str, str]] = {"wallet": "WALLET", "transaction": "TRANSACTION"}

    @classmethod
    def option_rules(cls, config: Mapping[str, Any]) -> list[tuple[str, str]]:
        """``HMAC_KEY`` must be hexadecimal when ``HMAC_KEY_ENCODING`` says so."""
        if config.get("HMAC_KEY_ENCODING") == "hex":
            try:
                for key in config.get("HMAC_KEY") or []:
                    bytes.fromhex(key.decode())
            except ValueError:
                return [("HMAC_KEY", 'must be hexadecimal: HMAC_KEY_ENCODING is "hex".')]
        return []

    # --- options -------------------------------------------------------------------------------------
    @property
    def webhook_mode(self) -> str:
        return str(self.options.get("WEBHOOK_MODE", "cbc-hmac"))

    @property
    def token_ttl(self) -> int:
        try:
            return int(self.options.get("TOKEN_TTL", DEFAULT_TOKEN_TTL))
        except (TypeError, ValueError):
            return 0

    @cached_property
    def crypto_keys(self) -> list[bytes]:
        """AES keys, newest first (``CRYPTO_KEY``: one hex string or a list, for rotation)."""
        return [crypto_key_bytes(item) for item in as_secret_list(self.options.get("CRYPTO_KEY"))]

    @cached_property
    def hmac_keys(self) -> list[bytes]:
        """HMAC keys, newest first. ``HMAC_KEY_ENCODING = "utf8"`` (default) uses the dashboard string's
        bytes, as Node's ``createHmac(alg, key)`` does with a string key; ``"hex"`` decodes it."""
        keys = as_secret_list(self.options.get("HMAC_KEY"))
        if str(self.options.get("HMAC_KEY_ENCODING", "utf8")) == "hex":
            try:
                return [bytes.fromhex(key.decode()) for key in keys]
            except ValueError as exc:
                raise ValueError("HMAC_KEY is not hexadecimal") from exc
        return keys

    @property
    def blockchains(self) -> tuple[str, ...]:
        configured = self.options.get("BLOCKCHAINS")
        return tuple(str(item).upper() for item in configured) if configured else DEFAULT_BLOCKCHAINS

    @property
    def aml_threshold(self) -> float:
        return float(self.options.get("AML_SCORE_THRESHOLD", DEFAULT_AML_SCORE_THRESHOLD))

    @cached_property
    def client(self) -> ProviderHttpClient:
        """One client (one connection pool) per backend instance; the registry caches instances per alias."""
        return self.http_client(
            str(self.options["BASE_URL"]),
            headers={AUTH_HEADER: str(self.options["PRIVATE_APP_KEY"]), "Accept": "application/json"},
            error_message=allpass_error_message,
        )

    # --- the envelope (the one place) ----------------------------------------------------------------
    def unwrap(self, response: requests.Response) -> Any:
        """``data`` of a 2xx envelope, decrypted if Allpass encrypted it.

        An envelope that says ``status: false`` (or carries an error ``statusCode``) despite the HTTP status
        raises the error its ``statusCode`` calls for, with the envelope's message. A body that is not an
        envelope is transient: a proxy's page, most likely, and every call here is safe to repeat.
        """
        try:
            payload = response.json()
        except ValueError as exc:
            raise TransientProviderError(
                "Allpass answered with a body that is not JSON",
                provider=self.provider,
                status_code=response.status_code,
            ) from exc
        if not isinstance(payload, dict) or "status" not in payload or "data" not in payload:
            raise TransientProviderError("Allpass answered without its response envelope", provider=self.provider)
        code = payload.get("statusCode")
        status_code = code if isinstance(code, int) and not isinstance(code, bool) else response.status_code
        if payload.get("status") is not True or status_code >= 400:
            message = _message_from(payload) or f"request failed (statusCode {status_code})"
            raise _error_for(status_code if status_code >= 400 else 400, message)
        data = payload["data"]
        if isinstance(data, str):
            data = self._decrypt_response(data, response.headers.get(SIGNATURE_HEADER, ""))
        return data

    def _decrypt_response(self, blob: str, signature: str) -> Any:
        """The docs say Public API data may come encrypted with the application keys, like webhooks."""
        if not self.crypto_keys:
            raise PermanentProviderError(
                "Allpass sent encrypted data but no CRYPTO_KEY is configured", provider=self.provider
            )
        try:
            return self.decrypt(blob, signature)
        except ValueError as exc:
            raise PermanentProviderError(f"cannot decrypt Allpass data: {exc}", provider=self.provider) from exc

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.unwrap(self.client.request(method, path, **kwargs))

    def _object(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        data = self.call(method, path, **kwargs)
        if not isinstance(data, dict):
            raise PermanentProviderError(f"Allpass answered {path} without an object", provider=self.provider)
        return data

    @staticmethod
    def _path(*parts: str) -> str:
        return "/api/public/" + "/".join(quote(str(part), safe="") for part in parts)

    # --- applicant operations ------------------------------------------------------------------------
    def supplied_info(self, applicant: Applicant) -> dict[str, Any]:
        """What we know about the person, for Allpass to compare with the documents it reads.

        The seed calls ``suppliedInfo`` "an object" and does not list its keys; these are the applicant
        attributes of Allpass's own objects in camel case. Empty values are not sent.
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

    def create_applicant(self, applicant: Applicant, flow_name: str | None = None) -> dict[str, Any]:
        """``POST /api/public/applicant`` with our reference as ``externalUserId``."""
        body: dict[str, Any] = {
            "externalUserId": applicant.reference,
            "flowName": flow_name or str(self.options["FLOW_NAME"]),
        }
        if applicant.phone:
            body["phone"] = applicant.phone
        if applicant.email:
            body["email"] = applicant.email
        if self.options.get("LANG"):
            body["lang"] = str(self.options["LANG"])
        if self.options.get("SEND_SUPPLIED_INFO", True):
            info = self.supplied_info(applicant)
            if info:
                body["suppliedInfo"] = info
        return self._object("POST", self._path("applicant"), json=body)

    def get_applicant(self, applicant_id: str) -> dict[str, Any]:
        """``GET /api/public/applicant/{id}``: ``id`` is Allpass's id *or* our reference (externalUserId)."""
        return self._object("GET", self._path("applicant", applicant_id))

    def find_applicant(self, external_user_id: str) -> dict[str, Any] | None:
        """The Allpass applicant created for our reference, or ``None`` if there is none yet (404, or a 400 /
        422 saying the applicant does not exist: :func:`is_not_found`)."""
        try:
            return self.get_applicant(external_user_id)
        except PermanentProviderError as exc:
            if is_not_found(exc):
                return None
            raise

    def applicant_status(self, applicant_id: str) -> dict[str, Any]:
        """``GET /api/public/applicant/{id}/status`` → ``{id, status}``."""
        return self._object("GET", self._path("applicant", applicant_id, "status"))

    def move_to_flow(self, applicant_id: str, flow_id: str) -> dict[str, Any]:
        """``POST /api/public/applicant/{id}/moveToFlow`` ``{flowId}`` → ``{id, status}``."""
        return self._object("POST", self._path("applicant", applicant_id, "moveToFlow"), json={"flowId": str(flow_id)})

    def schedule_deletion(self, applicant_id: str) -> datetime | None:
        """``POST .../schedule-deletion``: Allpass deletes softly; returns the ``scheduledDeletionDate``."""
        data = self._object("POST", self._path("applicant", applicant_id, "schedule-deletion"))
        return iso_datetime(data.get("scheduledDeletionDate"))

    def restore(self, applicant_id: str) -> None:
        """``POST .../restore``: undo a scheduled deletion."""
        self._object("POST", self._path("applicant", applicant_id, "restore"))

    def delete_applicant(self, applicant: Applicant) -> None:
        """Erasure: schedule the Allpass applicant (found by our reference) for deletion. Allpass keeps it
        until ``scheduledDeletionDate`` and :meth:`restore_applicant` can undo it until then."""
        try:
            when = self.schedule_deletion(applicant.reference)
        except PermanentProviderError as exc:
            if not is_not_found(exc):
                raise
            # never sent to Allpass (or already gone): there is nothing to erase there
            logger.info("allpass: applicant %s has no Allpass applicant to delete", applicant.pk)
            return
        logger.info("allpass: applicant %s scheduled for deletion at %s", applicant.pk, when)

    def restore_applicant(self, applicant: Applicant) -> None:
        """Undo :meth:`delete_applicant` (before the scheduled date)."""
        self.restore(applicant.reference)

    def mint_token(self, applicant_id: str, flow_name: str | None = None) -> tuple[ClientToken, dict[str, Any]]:
        """``POST .../token`` ``{locale, ttl, flowName}`` → the hosted-flow link and SDK access token."""
        body: dict[str, Any] = {"ttl": self.token_ttl, "flowName": flow_name or str(self.options["FLOW_NAME"])}
        locale = self.options.get("LOCALE") or self.options.get("LANG")
        if locale:
            body["locale"] = str(locale)
        requested = timezone.now()
        data = self._object("POST", self._path("applicant", applicant_id, "token"), json=body)
        token, link = text(data.get("accessToken")), text(data.get("link"))
        if not token and not link:
            raise PermanentProviderError(
                "Allpass answered the token call without accessToken or link", provider=self.provider
            )
        ttl = data.get("ttl")
        seconds = ttl if isinstance(ttl, int | float) and not isinstance(ttl, bool) and ttl > 0 else self.token_ttl
        # measured from before the request: we never promise a link longer than Allpass honours it
        client = ClientToken(token=token, link=link, expires_at=requested + timedelta(seconds=float(seconds)))
        return client, data

    def get_questionnaire(self, questionnaire_id: str) -> dict[str, Any]:
        """``GET /api/public/questionnaire/{id}``: the schema (``name``, ``content``, ``version`` …) of a
        questionnaire step, e.g. to render or interpret its answers."""
        return self._object("GET", self._path("questionnaire", questionnaire_id))

    # --- verifications -------------------------------------------------------------------------------
    def start_verification(self, verification: Verification) -> Submission:
        """Find or create the Allpass applicant, commit its id, then mint a token (hosted flow).

        Idempotent: a verification that already holds an Allpass id reuses it; otherwise the applicant is
        looked up by our reference (``externalUserId``) before one is created, so a crash after the create
        call, or a second verification of the same person, never makes a second Allpass applicant.
        """
        applicant_id = verification.provider_applicant_id
        if applicant_id:
            record = self.get_applicant(applicant_id)
        else:
            record = self.find_applicant(verification.applicant.reference) or self.create_applicant(
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
        return self.state_from_applicant(self.get_applicant(applicant_id))

    def map_status(self, raw: str) -> str:
        return self.STATUS_TABLE.get(raw.upper(), self.UNKNOWN_STATUS)

    def state_from_applicant(self, record: Mapping[str, Any]) -> ProviderState:
        """An applicant object as a state. ``review``, ``servicesData`` and ``flow`` are kept (without the
        document images, which would bloat every row), and the review's comment, warnings and failed services'
        messages become reasons a reviewer sees."""
        raw = text(record.get("status")).upper()
        review = mapping(record.get("review"))
        services = _list(record.get("servicesData"))
        data = {
            "allpass": {
                "status": raw,
                "review": _strip_images(review),
                "servicesData": _strip_images(services),
                "flow": mapping(record.get("flow")),
                "scheduledDeletionDate": record.get("scheduledDeletionDate"),
                "amlMonitoring": mapping(record.get("amlMonitoring")),
            }
        }
        return ProviderState(
            status=self.map_status(raw) if raw else self.UNKNOWN_STATUS,
            provider_status=raw or "(empty)",
            reasons=self.reasons_from(review, services),
            data=data,
        )

    @staticmethod
    def reasons_from(review: Mapping[str, Any], services: Sequence[Any] = ()) -> list[str]:
        """Review comment, review warnings (a string or a list), then failed services' reason/message."""
        reasons: list[str] = []

        def add(value: Any) -> None:
            if isinstance(value, list):
                for item in value:
                    add(item)
            elif isinstance(value, str) and value.strip() and value.strip()[:500] not in reasons:
                reasons.append(value.strip()[:500])

        add(review.get("comment"))
        add(review.get("warnings"))
        for service in services:
            if isinstance(service, Mapping) and text(service.get("status")).upper() in ("REJECTED", "FAILED", "ERROR"):
                name = text(service.get("service")) or "service"
                for key in ("reason", "errorMessage"):
                    if service.get(key):
                        add(f"{name}: {service[key]}")
        return reasons

    # --- webhooks ------------------------------------------------------------------------------------
    @staticmethod
    def _envelope(webhook: InboundWebhook) -> tuple[dict[str, Any], str]:
        try:
            envelope = json.loads(webhook.body)
        except ValueError as exc:
            raise WebhookAuthenticationError("delivery is not an Allpass envelope") from exc
        if not isinstance(envelope, dict) or not isinstance(envelope.get("data"), str) or not envelope["data"]:
            raise WebhookAuthenticationError("delivery carries no encrypted data")
        blob = envelope["data"].strip()
        if len(blob) % 2 or not re.fullmatch(r"[0-9a-fA-F]+", blob):
            raise WebhookAuthenticationError("encrypted data is not hexadecimal")
        return envelope, blob

    def hmac_message(self, webhook_body: bytes, blob: str) -> bytes:
        """What the CBC HMAC covers: the encrypted ``data`` string (default) or the raw body."""
        return webhook_body if self.options.get("HMAC_INPUT", "data") == "body" else blob.encode()

    def verify_cbc_signature(self, message: bytes, signature: str) -> None:
        """HMAC-SHA256 under any of ``HMAC_KEY`` (every key tried, constant time)."""
        if not self.hmac_keys:
            raise WebhookAuthenticationError("no HMAC_KEY configured: deliveries cannot be authenticated")
        encoding = str(self.options.get("SIGNATURE_ENCODING", "hex"))
        given = _decode_signature(signature, encoding)
        if given is None:
            raise WebhookAuthenticationError(f"{SIGNATURE_HEADER} is not {encoding}")
        matched = False
        for key in self.hmac_keys:
            matched |= constant_time_equals(hmac.new(key, message, hashlib.sha256).digest(), given)
        if not matched:
            raise WebhookAuthenticationError("signature mismatch")

    def decrypt(self, blob: str, signature: str) -> dict[str, Any]:
        """Decrypt ``data`` with any configured key; ``ValueError`` if nothing opens it."""
        if not self.crypto_keys:
            raise ValueError("no CRYPTO_KEY configured")
        if self.webhook_mode == "gcm":
            tag = _decode_signature(signature, str(self.options.get("SIGNATURE_ENCODING", "hex")))
            if tag is None:
                raise ValueError(f"{SIGNATURE_HEADER} is not a GCM tag")
            configured = self.options.get("GCM_IV_LENGTH", "auto")
            lengths = (12, 16) if configured == "auto" else (int(configured),)
            for key in self.crypto_keys:
                for length in lengths:
                    try:
                        return _json_object(decrypt_gcm(key, blob, tag, length))
                    except ValueError:
                        continue
            raise ValueError("the GCM tag does not verify with any CRYPTO_KEY")
        for key in self.crypto_keys:
            try:
                return _json_object(decrypt_cbc(key, blob))
            except ValueError:
                continue
        raise ValueError("data does not decrypt with any CRYPTO_KEY")

    def open_webhook(self, webhook: InboundWebhook, *, verify: bool) -> tuple[dict[str, Any], dict[str, Any]]:
        """(envelope, decrypted payload). ``verify`` checks the CBC HMAC too (GCM always authenticates)."""
        envelope, blob = self._envelope(webhook)
        signature = webhook.header(SIGNATURE_HEADER)
        if (verify or self.webhook_mode == "gcm") and not signature:
            raise WebhookSignatureMissing(f"{SIGNATURE_HEADER} header missing")
        if verify and self.webhook_mode == "cbc-hmac":
            self.verify_cbc_signature(self.hmac_message(webhook.body, blob), signature)
        try:
            payload = self.decrypt(blob, signature)
        except ValueError as exc:
            raise WebhookAuthenticationError(f"delivery does not decrypt: {exc}") from exc
        app_key = self.options.get("APP_KEY")
        if verify and app_key and text(payload.get("appKey")) and text(payload.get("appKey")) != str(app_key):
            raise WebhookAuthenticationError("delivery belongs to another Allpass application")
        return envelope, payload

    def authenticate_webhook(self, webhook: InboundWebhook) -> None:
        """Only a delivery whose signature verifies *and* whose data decrypts is Allpass's."""
        self.open_webhook(webhook, verify=True)

    def event_name(self, payload: Mapping[str, Any]) -> str:
        fields = (str(self.options["EVENT_FIELD"]),) if self.options.get("EVENT_FIELD") else ()
        for field_name in (*fields, *EVENT_FIELDS):
            if isinstance(payload.get(field_name), str) and payload[field_name]:
                return str(payload[field_name])
        return ""

    def parse_webhook(self, webhook: InboundWebhook) -> list[ProviderEvent]:
        """One event per delivery, id ``<applicant id>:<event>:<time>`` (providers.md §6).

        The state comes from the event itself, timed with the envelope's ``time`` so the vendor's ordering
        rule holds (older events are dropped by the transition service). ``applicantStepPassed`` and events
        without a name carry no status: the applicant is read back instead.
        """
        try:
            envelope, payload = self.open_webhook(webhook, verify=False)
        except WebhookAuthenticationError as exc:
            raise WebhookPayloadError(str(exc)) from exc
        applicant_id = text(payload.get("id"))
        if not applicant_id:
            logger.info("allpass: delivery without an applicant id acknowledged and ignored")
            return []
        event = self.event_name(payload)
        time_text = text(envelope.get("time"))
        occurred_at = iso_datetime(time_text)
        state: ProviderState | None = None
        if event and event not in self.PROGRESS_EVENTS:
            raw = self.EVENT_TABLE.get(event, "")
            warnings = payload.get("warnings")
            reasons = [str(item)[:500] for item in warnings if item] if isinstance(warnings, list) else []
            state = ProviderState(
                status=self.map_status(raw) if raw else self.UNKNOWN_STATUS,
                provider_status=raw or event,
                reasons=reasons,
                occurred_at=occurred_at,
                data={
                    "allpass_event": {
                        "event": event,
                        "time": time_text,
                        "warnings": reasons,
                        "stepName": payload.get("stepName"),
                    }
                },
            )
        return [
            ProviderEvent(
                event_id=f"{applicant_id}:{event or 'unnamed'}:{time_text}",
                event_type=(event or "unnamed")[:128],
                provider_ref=applicant_id,
                our_ref="",
                occurred_at=occurred_at,
                state=state,
            )
        ]

    # --- crypto AML ----------------------------------------------------------------------------------
    def aml_search_body(self, aml_check: AmlCheck) -> dict[str, str]:
        """The search request, validated the way the seed describes it, before anything is sent."""
        subject = str(aml_check.subject)
        if subject not in self.AML_TYPES:
            raise self._unsupported("person AML screening over the API (it is part of the Allpass flow)")
        blockchain = str(aml_check.blockchain or "").strip().upper()
        if blockchain not in self.blockchains:
            raise PermanentProviderError(
                f"blockchain {aml_check.blockchain!r} is not one Allpass accepts ({', '.join(self.blockchains)})",
                provider=self.provider,
            )
        address, tx_hash = str(aml_check.address or "").strip(), str(aml_check.tx_hash or "").strip()
        if address and tx_hash:
            raise PermanentProviderError(
                "address and txHash are mutually exclusive: screen a wallet or a transaction", provider=self.provider
            )
        if subject == "transaction":
            if not tx_hash:
                raise PermanentProviderError("a transaction check needs a txHash", provider=self.provider)
            if not TX_HASH_PATTERN.fullmatch(tx_hash):
                raise PermanentProviderError(
                    "txHash must be 64 hexadecimal characters, optionally prefixed with 0x", provider=self.provider
                )
            return {"blockchain": blockchain, "txHash": tx_hash}
        if not address:
            raise PermanentProviderError("a wallet check needs an address", provider=self.provider)
        if not ADDRESS_PATTERN.fullmatch(address):
            raise PermanentProviderError("address is not a blockchain address", provider=self.provider)
        return {"blockchain": blockchain, "address": address}

    def check_aml_subject(self, aml_check: AmlCheck) -> None:
        self.aml_search_body(aml_check)

    def screen(self, aml_check: AmlCheck) -> AmlResult:
        """Search once (the search id is committed at once, so a retry reads that search), then read it."""
        body = self.aml_search_body(aml_check)
        search = (aml_check.provider_data or {}).get("allpass_search") or {}
        if not (aml_check.provider_check_id and isinstance(search, Mapping) and search.get("type")):
            found = self._object("POST", self._path("crypto-aml", "search"), json=body)
            aml_id = text(found.get("id"))
            if not aml_id:
                raise PermanentProviderError("Allpass answered the AML search without an id", provider=self.provider)
            search = {"id": aml_id, "type": text(found.get("type")) or self.AML_TYPES[str(aml_check.subject)]}
            # committed at once (like remember()): a retried screening reads this search, never starts another
            self.remember_aml(aml_check, provider_check_id=aml_id, provider_data={"allpass_search": dict(search)})
        return self.fetch_aml(aml_check)

    def fetch_aml(self, aml_check: AmlCheck) -> AmlResult:
        """``GET /crypto-aml/{id}/details?type=…`` → the result; ``running`` while Allpass has no score."""
        search = (aml_check.provider_data or {}).get("allpass_search") or {}
        aml_id = aml_check.provider_check_id or text(search.get("id") if isinstance(search, Mapping) else "")
        if not aml_id:
            raise PermanentProviderError("the AML check has no Allpass search yet", provider=self.provider)
        kind = text(search.get("type") if isinstance(search, Mapping) else "") or self.AML_TYPES.get(
            str(aml_check.subject), "WALLET"
        )
        details = self._object("GET", self._path("crypto-aml", aml_id, "details"), params={"type": kind})
        return self.aml_result(aml_id, kind, details)

    def aml_result(self, aml_id: str, kind: str, details: Mapping[str, Any]) -> AmlResult:
        """Score ≥ ``AML_SCORE_THRESHOLD`` (0-100 scale) or any entity at or above it → ``potential_match``.

        Each risky entity is a hit; a risky score without a named entity is one hit for the address or
        transaction itself, so a reviewer always has something to resolve. Sources and uses of funds, address
        information and entities are kept for reviewers.
        """
        score = _number(details.get("score"))
        review_status = text(details.get("reviewStatus")) or "UNKNOWN"
        kept = {
            key: details.get(key)
            for key in (
                "type",
                "blockchain",
                "address",
                "reviewStatus",
                "score",
                "amount",
                "sof",
                "uof",
                "addressInfo",
                "entities",
                "isMonitoring",
                "lastUpdateDate",
                "outdated",
                "timelines",
                "comments",
            )
            if key in details
        }
        data = {"allpass_search": {"id": aml_id, "type": kind}, "allpass_aml": kept}
        monitored = details.get("isMonitoring") is True
        if score is None:
            return AmlResult(
                status=AmlStatus.RUNNING,
                provider_status=review_status,
                provider_check_id=aml_id,
                data=data,
                monitored=monitored,
            )
        threshold = self.aml_threshold
        hits: list[AmlHitResult] = []
        entities = _list(details.get("entities"))
        for index, entity in enumerate(entities):
            if not isinstance(entity, Mapping):
                continue
            entity_score = _number(entity.get("score"))
            if entity_score is None or entity_score < threshold:
                continue
            topic = text(entity.get("scoreType")) or text(entity.get("scoreTypeId"))
            hits.append(
                AmlHitResult(
                    entity_id=text(entity.get("id")) or f"entity-{index}",
                    caption=text(entity.get("name")) or topic or "risky entity",
                    score=entity_score,
                    topics=(topic,) if topic else (),
                    datasets=("allpass_crypto_aml",),
                    details=dict(entity),
                )
            )
        if score >= threshold and not hits:
            info = mapping(details.get("addressInfo"))
            subject = text(details.get("address")) or aml_id
            hits.append(
                AmlHitResult(
                    entity_id=f"{kind.lower()}:{subject}",
                    caption=text(info.get("owner")) or f"risky {kind.lower()} {subject}",
                    score=score,
                    topics=("crypto_risk",),
                    datasets=("allpass_crypto_aml",),
                    details={"addressInfo": dict(info)} if info else {},
                )
            )
        return AmlResult(
            status=AmlStatus.POTENTIAL_MATCH if hits else AmlStatus.CLEAR,
            provider_status=review_status,
            provider_check_id=aml_id,
            hits=hits,
            data=data,
            score=score,
            risk_level=self.risk_level(score),
            monitored=monitored,
        )

    def risk_level(self, score: float) -> str:
        """Allpass reports a score only; a level for filters: high at the threshold, medium from half of it."""
        threshold = self.aml_threshold
        if score >= threshold:
            return "high"
        return "medium" if score >= threshold / 2 else "low"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _strip_images(value: Any) -> Any:
    """A copy of ``value`` with base64 images (``image`` keys) replaced by their size: the document pictures
    Allpass returns stay at Allpass, reviewers open them in the Workplace."""
    if isinstance(value, Mapping):
        return {
            key: (
                f"(image omitted, {len(item)} characters)"
                if key == "image" and isinstance(item, str) and item
                else _strip_images(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_strip_images(item) for item in value]
    return value
