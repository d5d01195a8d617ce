"""A fake Allpass (elKYC) Open API: ``/api/public/...`` under ``x-private-app-key``.

It follows the seed (the "Open API" page): every answer is the envelope ``{"status", "statusCode", "data",
"time"}`` (errors too, with ``status: false`` and a ``message``), applicants are found by their id or their
``externalUserId``, ``POST`` creations answer 201, soft deletion is ``schedule-deletion`` / ``restore``, and
crypto-AML searches are validated as the seed's schema says (``BlockchainEnum``, ``txHash`` pattern,
``address`` and ``txHash`` mutually exclusive).

Webhooks are encrypted the way the application is configured: ``webhook_mode="cbc-hmac"`` (hex IV + hex
AES-256-CBC ciphertext in ``data``, hex HMAC-SHA256 of that string in ``x-allpass-signature``) or ``"gcm"``
(hex IV + hex AES-256-GCM ciphertext, hex tag in ``x-allpass-signature``). The encryption here is written
independently of the backend's decryption, so the two check each other (and the pinned vectors check both).

``decide(applicant_id, status)`` plays the person and Allpass's compliance officer: any status can be set,
including ones Allpass never sends. Crypto AML is deterministic: an address or hash containing ``bad`` is
high risk, one containing ``pending`` has no score until :meth:`FakeAllpass.settle_aml`.

Command line (the demo)::

    python -m django_kyc.testing allpass --port 8100 --option private_app_key=demo-key \
        --option crypto_key=<64 hex> --option hmac_key=demo-hmac \
        --option callback_url=http://127.0.0.1:8000/kyc/webhooks/allpass/ --auto-decide APPROVED
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import threading
import uuid
from datetime import datetime, timedelta, timezone
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

from django_kyc.testing.server import FakeProviderServer, FakeRequest, FakeResponse

logger = logging.getLogger("django_kyc.testing")

#: Applicant statuses (providers.md §1.4) and the webhook event announcing each.
EVENTS = {
    "INIT": "applicantCreated",
    "INCOMPLETE": "applicantIncomplete",
    "IN_PROGRESS": "applicantInProgress",
    "COMPLETED": "applicantCompleted",
    "IN_REVIEW": "applicantInReview",
    "ON_HOLD": "applicantOnHold",
    "APPROVED": "applicantApproved",
    "REJECTED": "applicantRejected",
}
#: A status Allpass does not send (for the unknown-status fallback); its event is ``applicantFrozen``.
UNKNOWN_STATUS = "FROZEN"
BLOCKCHAINS = ("BTC", "ETH", "LTC", "BCH", "DOGE", "TRX", "BSC", "POLYGON", "SOL", "TON", "XRP", "ADA")
TX_HASH = re.compile(r"^(0x)?[a-fA-F0-9]{64}$")
MAX_TTL = 3_153_600_000
DEFAULT_CRYPTO_KEY = "6b" * 32
DELETION_GRACE = timedelta(days=30)
#: a tiny JPEG header: what a document picture in ``servicesData`` looks like
IMAGE = "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDA"

QUESTIONNAIRES = {
    "q-onboarding": {
        "id": "q-onboarding",
        "name": "Onboarding questionnaire",
        "description": "Source of funds and occupation",
        "clientKey": "client-demo",
        "content": {
            "questions": [
                {"key": "occupation", "type": "text", "required": True},
                {"key": "sourceOfFunds", "type": "select", "options": ["salary", "savings", "business"]},
            ]
        },
        "version": {"number": 1},
        "createdAt": "2025-07-04T12:01:17.228Z",
    }
}


def iso(moment: datetime) -> str:
    """Allpass's ``time``: ISO-8601 UTC with milliseconds, e.g. ``2021-08-20T14:52:33.648Z``."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _now() -> datetime:
    return datetime.now(timezone.utc)


# --- the vendor's encryption (independent of the backend's decryption) ------------------------------------


def encrypt_cbc(key_hex: str, hmac_key: str, plaintext: bytes, iv: bytes | None = None) -> tuple[str, str]:
    """(data, x-allpass-signature): hex IV + hex AES-256-CBC/PKCS#7 ciphertext, hex HMAC-SHA256 of ``data``."""
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    iv = os.urandom(16) if iv is None else iv
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(bytes.fromhex(key_hex)), modes.CBC(iv)).encryptor()
    data = iv.hex() + (encryptor.update(padded) + encryptor.finalize()).hex()
    return data, hmac.new(hmac_key.encode(), data.encode(), hashlib.sha256).hexdigest()


def encrypt_gcm(key_hex: str, plaintext: bytes, iv: bytes | None = None, iv_length: int = 12) -> tuple[str, str]:
    """(data, x-allpass-signature): hex IV + hex AES-256-GCM ciphertext, and the hex tag."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    iv = os.urandom(iv_length) if iv is None else iv
    encryptor = Cipher(algorithms.AES(bytes.fromhex(key_hex)), modes.GCM(iv)).encryptor()
    ciphertext = encryptor.update(plaintext) + encryptor.finalize()
    return iv.hex() + ciphertext.hex(), encryptor.tag.hex()


class FakeAllpass(FakeProviderServer):
    """Applicants, tokens, questionnaires and crypto-AML searches in memory."""

    provider = "allpass"
    routes = [
        ("POST", r"/api/public/applicant", "create_applicant"),
        ("GET", r"/api/public/applicant/(?P<applicant>[^/]+)", "get_applicant"),
        ("GET", r"/api/public/applicant/(?P<applicant>[^/]+)/status", "get_status"),
        ("POST", r"/api/public/applicant/(?P<applicant>[^/]+)/moveToFlow", "move_to_flow"),
        ("POST", r"/api/public/applicant/(?P<applicant>[^/]+)/schedule-deletion", "schedule_deletion"),
        ("POST", r"/api/public/applicant/(?P<applicant>[^/]+)/restore", "restore"),
        ("POST", r"/api/public/applicant/(?P<applicant>[^/]+)/token", "token"),
        ("GET", r"/api/public/questionnaire/(?P<questionnaire>[^/]+)", "questionnaire"),
        ("POST", r"/api/public/crypto-aml/search", "aml_search"),
        ("GET", r"/api/public/crypto-aml/(?P<aml>[^/]+)/details", "aml_details"),
    ]

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        private_app_key: str = "allpass-test-key",
        crypto_key: str = DEFAULT_CRYPTO_KEY,
        hmac_key: str = "allpass-test-hmac",
        webhook_mode: str = "cbc-hmac",
        callback_url: str = "",
        flows: str = "basic-kyc,enhanced-kyc",
        app_key: str = "0b7e2d1c-5a4f-4e3b-9c8d-7a6b5c4d3e2f",
        gcm_iv_length: int | str = 12,
        encrypt_responses: bool | str = False,
        missing_status: int | str = 404,
        missing_message: str = "Applicant not found",
    ) -> None:
        super().__init__(host, port)
        #: How an unknown applicant is answered. Allpass publishes no error catalogue: 404 is the likeliest,
        #: a 400 / 422 "does not exist" is plausible too, and the backend must take either for "none yet".
        self.missing_status = int(missing_status)
        self.missing_message = missing_message
        if webhook_mode not in ("cbc-hmac", "gcm"):
            raise ValueError("webhook_mode must be 'cbc-hmac' or 'gcm'")
        bytes.fromhex(crypto_key)  # fail early on a key the vendor would not issue
        self.private_app_key = private_app_key
        self.crypto_key = crypto_key
        self.hmac_key = hmac_key
        self.webhook_mode = webhook_mode
        self.webhook_url = callback_url
        self.app_key = app_key
        self.gcm_iv_length = int(gcm_iv_length)
        self.encrypt_responses = str(encrypt_responses).lower() in ("1", "true", "yes")
        #: flow name -> flow id (``moveToFlow`` takes the id)
        self.flows = {name.strip(): str(index) for index, name in enumerate(flows.split(","), start=1) if name.strip()}
        self.applicants: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, list[dict[str, Any]]] = {}
        self.aml: dict[str, dict[str, Any]] = {}
        #: request bodies of the create call, in order (for tests of the request shape)
        self.created_with: list[dict[str, Any]] = []
        self._last_time = _now() - timedelta(seconds=1)

    # --- the envelope --------------------------------------------------------------------------------
    def envelope(self, data: Any, status: int = 200) -> FakeResponse:
        """A success. Allpass answers creations with HTTP 201 but ``statusCode: 200`` (as in the seed)."""
        headers: dict[str, str] = {}
        if self.encrypt_responses:
            data, signature = self.encrypt(json.dumps(data).encode())
            headers["x-allpass-signature"] = signature
        body = {"status": True, "statusCode": 200, "data": data, "time": iso(_now())}
        return FakeResponse(status, body, headers)

    def error(self, status: int, message: str | list[str], **extra: Any) -> FakeResponse:
        """Errors in the same envelope: ``status: false``, the HTTP code, NestJS-style ``message``/``error``."""
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Error"
        body = {"status": False, "statusCode": status, "message": message, "error": phrase, "data": None}
        return FakeResponse(status, {**body, "time": iso(_now()), **extra})

    def authenticate(self, request: FakeRequest) -> FakeResponse | None:
        given = request.header("x-private-app-key")
        if not given or not secrets.compare_digest(given.encode(), self.private_app_key.encode()):
            return self.error(401, "Unauthorized")
        return None

    def _body(self, request: FakeRequest) -> dict[str, Any] | FakeResponse:
        if not request.body.strip():
            return {}
        body = request.json()
        if not isinstance(body, dict):
            return self.error(400, "Request body must be a JSON object")
        return body

    @staticmethod
    def _string_problems(body: dict[str, Any], required: tuple[str, ...], optional: tuple[str, ...]) -> list[str]:
        problems = []
        for name in required:
            if not isinstance(body.get(name), str) or not body[name].strip():
                problems.append(f"{name} should not be empty")
        for name in (*required, *optional):
            if name in body and body[name] is not None and not isinstance(body[name], str):
                problems.append(f"{name} must be a string")
        return problems

    def _applicant(self, request: FakeRequest) -> dict[str, Any] | FakeResponse:
        """By internal id or externalUserId, as the seed's path parameter allows."""
        key = unquote(request.params["applicant"])
        found = self.applicants.get(key) or next(
            (item for item in self.applicants.values() if item["externalUserId"] == key), None
        )
        if found is None:
            return self.error(self.missing_status, self.missing_message)
        return found

    def _tick(self) -> str:
        """A strictly increasing event time, so two decisions never share a timestamp."""
        moment = max(_now(), self._last_time + timedelta(milliseconds=1))
        self._last_time = moment
        return iso(moment)

    @staticmethod
    def _public(applicant: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in applicant.items() if not key.startswith("_")}

    # --- applicants ----------------------------------------------------------------------------------
    def create_applicant(self, request: FakeRequest) -> FakeResponse:
        body = self._body(request)
        if isinstance(body, FakeResponse):
            return body
        problems = self._string_problems(body, ("externalUserId", "flowName"), ("phone", "email", "lang"))
        if "suppliedInfo" in body and not isinstance(body["suppliedInfo"], dict):
            problems.append("suppliedInfo must be an object")
        if isinstance(body.get("email"), str) and "@" not in body["email"]:
            problems.append("email must be an email")
        if problems:
            return self.error(400, problems)
        if body["flowName"] not in self.flows:
            return self.error(404, f"Flow '{body['flowName']}' not found")
        if any(item["externalUserId"] == body["externalUserId"] for item in self.applicants.values()):
            return self.error(409, "Applicant with this externalUserId already exists")
        applicant_id = str(uuid.uuid4())
        now = iso(_now())
        flow_name = body["flowName"]
        self.applicants[applicant_id] = {
            "id": applicant_id,
            "externalUserId": body["externalUserId"],
            "status": "INIT",
            "updatedAt": now,
            "createdAt": now,
            "scheduledDeletionDate": None,
            "phone": body.get("phone"),
            "email": body.get("email"),
            "lang": body.get("lang"),
            "dateOfBirth": (body.get("suppliedInfo") or {}).get("dateOfBirth"),
            "fullName": None,
            "clientKey": "client-demo",
            "flowId": int(self.flows[flow_name]),
            "review": {"id": str(uuid.uuid4()), "version": 1, "status": "INIT", "comment": None, "warnings": None},
            "servicesData": [],
            "applications": {"appKey": self.app_key},
            "flow": self._flow(flow_name),
            "amlMonitoring": None,
            "_suppliedInfo": body.get("suppliedInfo") or {},
            "_event_time": self._tick(),
        }
        self.created_with.append(dict(body))
        self.schedule_auto_decision(applicant_id)
        return self.envelope(self._public(self.applicants[applicant_id]), 201)

    def _flow(self, name: str) -> dict[str, Any]:
        return {
            "name": name,
            "id": int(self.flows[name]),
            "type": "ON_DEMAND",
            "autoApprove": False,
            "uniqueFaceMatch": True,
            "services": ["DOCUMENT_CAPTURE", "LIVENESS"],
        }

    def get_applicant(self, request: FakeRequest) -> FakeResponse:
        applicant = self._applicant(request)
        if isinstance(applicant, FakeResponse):
            return applicant
        return self.envelope(self._public(applicant))

    def get_status(self, request: FakeRequest) -> FakeResponse:
        applicant = self._applicant(request)
        if isinstance(applicant, FakeResponse):
            return applicant
        return self.envelope({"id": applicant["id"], "status": applicant["status"]})

    def move_to_flow(self, request: FakeRequest) -> FakeResponse:
        applicant = self._applicant(request)
        if isinstance(applicant, FakeResponse):
            return applicant
        body = self._body(request)
        if isinstance(body, FakeResponse):
            return body
        problems = self._string_problems(body, ("flowId",), ())
        if problems:
            return self.error(400, problems)
        name = next((flow for flow, flow_id in self.flows.items() if flow_id == body["flowId"]), None)
        if name is None:
            return self.error(404, f"Flow {body['flowId']} not found")
        applicant.update(flow=self._flow(name), flowId=int(body["flowId"]), status="INIT", updatedAt=iso(_now()))
        applicant["_event_time"] = self._tick()
        return self.envelope({"id": applicant["id"], "status": applicant["status"]})

    def schedule_deletion(self, request: FakeRequest) -> FakeResponse:
        applicant = self._applicant(request)
        if isinstance(applicant, FakeResponse):
            return applicant
        if not applicant["scheduledDeletionDate"]:
            applicant["scheduledDeletionDate"] = iso(_now() + DELETION_GRACE)
        return self.envelope({"id": applicant["id"], "scheduledDeletionDate": applicant["scheduledDeletionDate"]})

    def restore(self, request: FakeRequest) -> FakeResponse:
        applicant = self._applicant(request)
        if isinstance(applicant, FakeResponse):
            return applicant
        if not applicant["scheduledDeletionDate"]:
            return self.error(400, "Applicant is not scheduled for deletion")
        applicant["scheduledDeletionDate"] = None
        return self.envelope({"id": applicant["id"]})

    def token(self, request: FakeRequest) -> FakeResponse:
        applicant = self._applicant(request)
        if isinstance(applicant, FakeResponse):
            return applicant
        body = self._body(request)
        if isinstance(body, FakeResponse):
            return body
        problems = self._string_problems(body, (), ("locale", "flowName"))
        ttl = body.get("ttl", 3600)
        if isinstance(ttl, bool) or not isinstance(ttl, int | float):
            problems.append("ttl must be a number conforming to the specified constraints")
        elif ttl > MAX_TTL:
            problems.append(f"ttl must not be greater than {MAX_TTL}")
        if problems:
            return self.error(400, problems)
        if body.get("flowName") and body["flowName"] not in self.flows:
            return self.error(404, f"Flow '{body['flowName']}' not found")
        transaction_id = str(uuid.uuid4())
        issued = {
            "transactionId": transaction_id,
            "accessToken": "eyJhbGciOiJIUzI1NiJ9." + secrets.token_urlsafe(24),
            "link": f"{self.base_url}/flow/{transaction_id}",
            "applicantId": applicant["id"],
            "ttl": ttl,
        }
        self.tokens.setdefault(applicant["id"], []).append({**issued, "_locale": body.get("locale")})
        return self.envelope(issued, 201)

    def questionnaire(self, request: FakeRequest) -> FakeResponse:
        found = QUESTIONNAIRES.get(unquote(request.params["questionnaire"]))
        if found is None:
            return self.error(404, "Questionnaire not found")
        return self.envelope(found)

    # --- crypto AML ----------------------------------------------------------------------------------
    def aml_search(self, request: FakeRequest) -> FakeResponse:
        body = self._body(request)
        if isinstance(body, FakeResponse):
            return body
        problems = []
        if body.get("blockchain") not in BLOCKCHAINS:
            problems.append(f"blockchain must be one of the following values: {', '.join(BLOCKCHAINS)}")
        address, tx_hash = body.get("address"), body.get("txHash")
        if address is not None and tx_hash is not None:
            problems.append("txHash and address are mutually exclusive")
        elif address is None and tx_hash is None:
            problems.append("either txHash or address must be provided")
        if tx_hash is not None and (not isinstance(tx_hash, str) or not TX_HASH.match(tx_hash)):
            problems.append("txHash must match /^(0x)?[a-fA-F0-9]{64}$/ regular expression")
        if address is not None and (not isinstance(address, str) or not address.strip()):
            problems.append("address must be a valid blockchain address")
        if problems:
            return self.error(400, problems)
        aml_id = str(uuid.uuid4())
        kind = "TRANSACTION" if tx_hash is not None else "WALLET"
        subject = str(tx_hash if tx_hash is not None else address)
        self.aml[aml_id] = {"id": aml_id, "type": kind, "blockchain": body["blockchain"], "subject": subject}
        self.aml[aml_id]["ready"] = "pending" not in subject.lower()
        return self.envelope({"id": aml_id, "type": kind}, 201)

    def settle_aml(self, aml_id: str) -> None:
        """Finish a search that was still being analysed (``pending`` in its address)."""
        with self.lock:
            self.aml[aml_id]["ready"] = True

    def aml_details(self, request: FakeRequest) -> FakeResponse:
        record = self.aml.get(unquote(request.params["aml"]))
        kind = (request.query.get("type") or [""])[0]
        if kind not in ("WALLET", "TRANSACTION"):
            return self.error(400, ["type must be one of the following values: WALLET, TRANSACTION"])
        if record is None or record["type"] != kind:
            return self.error(404, "Crypto AML not found")
        return self.envelope(self._aml_details(record))

    @staticmethod
    def _aml_details(record: dict[str, Any]) -> dict[str, Any]:
        risky = "bad" in record["subject"].lower()
        exchange = {"id": "ent-exchange", "score": 4, "scoreType": "exchange", "name": "Licensed exchange"}
        darknet = {"id": "ent-darknet", "score": 92, "scoreType": "dark_market", "name": "Darknet marketplace"}
        mixer = {"id": "ent-mixer", "score": 71, "scoreType": "mixer", "name": "Coin mixer"}
        entities = [darknet, mixer, exchange] if risky else [exchange]
        flow = {
            "hash": "f" * 64,
            "forward": False,
            "owner": entities[0]["name"],
            "score": entities[0]["score"],
            "type": entities[0]["scoreType"],
            "depth": 1,
            "amount": 1.5,
            "share": 0.8 if risky else 1.0,
            "transactionCount": 3,
            "listType": "black" if risky else "white",
        }
        ready = bool(record["ready"])
        return {
            "type": record["type"],
            "id": record["id"],
            "clientKey": "client-demo",
            "applicantId": None,
            "blockchain": record["blockchain"],
            "reviewStatus": "UNKNOWN",
            "address": record["subject"] if record["type"] == "WALLET" else None,
            "score": (87 if risky else 3) if ready else None,
            "amount": "1.5",
            "uof": [dict(flow, forward=True)] if ready else [],
            "sof": [flow] if ready else [],
            "addressInfo": {"address": record["subject"], "owner": entities[0]["name"] if risky else "", "txCount": 3},
            "entities": entities if ready else [],
            "isMonitoring": ready,
            "lastUpdateDate": iso(_now()),
            "outdated": False,
            "createdAt": iso(_now()),
            "timelines": [{"id": "tl-1", "eventName": "CRYPTO_AML_STATUS_UPDATED", "amlId": record["id"]}],
            "comments": [],
        }

    # --- back office ---------------------------------------------------------------------------------
    def applicant(self, ref: str) -> dict[str, Any]:
        return self.applicants[ref]

    def token_for(self, ref: str) -> dict[str, Any]:
        """The latest token minted for applicant ``ref``."""
        return self.tokens[ref][-1]

    def decide(
        self,
        ref: str,
        outcome: str,
        *,
        comment: str | None = None,
        warnings: list[str] | None = None,
    ) -> None:
        """Set applicant ``ref``'s status (any string) as the flow and the compliance officer would."""
        with self.lock:
            applicant = self.applicant(ref)
            applicant["status"] = outcome
            applicant["updatedAt"] = iso(_now())
            applicant["_event_time"] = self._tick()
            review = applicant["review"]
            review.update(status=outcome, version=review["version"] + 1)
            if outcome == "REJECTED":
                review["comment"] = comment if comment is not None else "Document is expired"
                review["warnings"] = warnings if warnings is not None else ["FACE_MISMATCH"]
            elif comment is not None or warnings is not None:
                review.update(comment=comment, warnings=warnings)
            if outcome in ("COMPLETED", "IN_REVIEW", "ON_HOLD", "APPROVED", "REJECTED"):
                applicant["servicesData"] = [
                    {
                        "service": "DOCUMENT_CAPTURE",
                        "status": "REJECTED" if outcome == "REJECTED" else "APPROVED",
                        "type": "ON_DEMAND",
                        "errorMessage": "Document expired" if outcome == "REJECTED" else None,
                        "reason": "EXPIRED_DOCUMENT" if outcome == "REJECTED" else None,
                        "data": {
                            "stepType": "DOCUMENT_CAPTURE",
                            "graphics": [{"fieldType": 1, "data": [{"fieldType": 201, "image": IMAGE}]}],
                        },
                    }
                ]

    def webhook_for(
        self, ref: str, outcome: str | None = None, *, event: str | None = None, step_name: str | None = None, **_: Any
    ) -> tuple[bytes, dict[str, str]]:
        """The encrypted delivery announcing applicant ``ref``'s current status (or ``event``)."""
        if outcome is not None:
            self.decide(ref, outcome)
        with self.lock:
            applicant = self.applicant(ref)
            status = applicant["status"]
            name = event or EVENTS.get(status) or "applicant" + status.title().replace("_", "")
            time = self._tick() if event else applicant["_event_time"]
            warnings = applicant["review"].get("warnings")
            payload = {
                "type": name,
                "id": applicant["id"],
                "externalUserId": applicant["externalUserId"],
                "appKey": self.app_key,
                "warnings": warnings if isinstance(warnings, list) else [],
                "stepName": step_name,
            }
        data, signature = self.encrypt(json.dumps(payload).encode())
        body = json.dumps({"status": True, "statusCode": 200, "data": data, "time": time}).encode()
        return body, {"Content-Type": "application/json", "x-allpass-signature": signature}

    def encrypt(self, plaintext: bytes) -> tuple[str, str]:
        if self.webhook_mode == "gcm":
            return encrypt_gcm(self.crypto_key, plaintext, iv_length=self.gcm_iv_length)
        return encrypt_cbc(self.crypto_key, self.hmac_key, plaintext)

    def callback_url(self, ref: str) -> str:
        """Allpass sends every webhook of an application to the one URL set in the Workplace."""
        return self.webhook_url

    def applicant_count(self) -> int:
        return len(self.applicants)

    def schedule_auto_decision(self, ref: str) -> None:
        """The demo: the person works through the flow (``IN_PROGRESS``, ``COMPLETED``), then the
        ``--auto-decide`` status, each with its webhook, ``auto_delay`` seconds apart."""
        if not self.auto_outcome:
            return
        steps = ["IN_PROGRESS", "COMPLETED", self.auto_outcome]

        def run() -> None:
            for status in steps:
                stop.wait(self.auto_delay)
                try:
                    self.decide(ref, status)
                    if not self.webhook_url:
                        logger.warning("allpass: applicant %s is %s (no callback_url)", ref, status)
                        continue
                    answered = self.deliver(ref)
                    logger.warning("allpass: applicant %s is %s; webhook answered %s", ref, status, answered)
                except Exception:
                    logger.exception("allpass: auto decision for applicant %s failed", ref)
                    return

        stop = threading.Event()
        threading.Thread(target=run, name=f"allpass-auto-{ref}", daemon=True).start()


SERVER = FakeAllpass
