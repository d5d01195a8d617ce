"""The fake Allpass's Open API: ``/api/public/...`` under ``x-private-app-key``, every answer in the envelope
``{"status", "statusCode", "data", "time"}`` (errors too, with ``status: false`` and NestJS-style messages).

Requests are validated the way Allpass's API reference describes them: applicants are found by their id or
their ``externalUserId``, ``POST`` creations answer 201, soft deletion is ``schedule-deletion`` / ``restore``,
and crypto-AML searches check ``BlockchainEnum``, the ``txHash`` pattern and that ``address`` and ``txHash``
are mutually exclusive. The back office (decisions, webhooks) is :class:`~django_kyc.testing.allpass.FakeAllpass`.
"""

from __future__ import annotations

import json
import secrets
import uuid
from datetime import timedelta
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

from django_kyc.testing.allpass import samples
from django_kyc.testing.allpass.vendor import (
    BLOCKCHAINS,
    DEFAULT_CRYPTO_KEY,
    DELETION_GRACE,
    MAX_TTL,
    TX_HASH,
    encrypt_cbc,
    encrypt_gcm,
    iso,
    now,
)
from django_kyc.testing.server import FakeProviderServer, FakeRequest, FakeResponse


class AllpassApi(FakeProviderServer):
    """Applicants, tokens, questionnaires and crypto-AML searches in memory, served as Allpass serves them."""

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
        self._last_time = now() - timedelta(seconds=1)

    # --- the envelope --------------------------------------------------------------------------------
    def envelope(self, data: Any, status: int = 200) -> FakeResponse:
        """A success. Allpass answers creations with HTTP 201 but ``statusCode: 200`` (as in its API reference)."""
        headers: dict[str, str] = {}
        if self.encrypt_responses:
            data, signature = self.encrypt(json.dumps(data).encode())
            headers["x-allpass-signature"] = signature
        body = {"status": True, "statusCode": 200, "data": data, "time": iso(now())}
        return FakeResponse(status, body, headers)

    def error(self, status: int, message: str | list[str], **extra: Any) -> FakeResponse:
        """Errors in the same envelope: ``status: false``, the HTTP code, NestJS-style ``message``/``error``."""
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Error"
        body = {"status": False, "statusCode": status, "message": message, "error": phrase, "data": None}
        return FakeResponse(status, {**body, "time": iso(now()), **extra})

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
        """By internal id or externalUserId, as the path parameter of Allpass's API reference allows."""
        key = unquote(request.params["applicant"])
        found = self.applicants.get(key) or next(
            (item for item in self.applicants.values() if item["externalUserId"] == key), None
        )
        if found is None:
            return self.error(self.missing_status, self.missing_message)
        return found

    def _applicant_and_body(self, request: FakeRequest) -> tuple[dict[str, Any], dict[str, Any]] | FakeResponse:
        """The applicant a call names and the call's body, or the error Allpass answers with first."""
        applicant = self._applicant(request)
        if isinstance(applicant, FakeResponse):
            return applicant
        body = self._body(request)
        if isinstance(body, FakeResponse):
            return body
        return applicant, body

    def _tick(self) -> str:
        """A strictly increasing event time, so two decisions never share a timestamp."""
        moment = max(now(), self._last_time + timedelta(milliseconds=1))
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
        created = iso(now())
        flow_name = body["flowName"]
        self.applicants[applicant_id] = {
            "id": applicant_id,
            "externalUserId": body["externalUserId"],
            "status": "INIT",
            "updatedAt": created,
            "createdAt": created,
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
            "flow": samples.flow(flow_name, int(self.flows[flow_name])),
            "amlMonitoring": None,
            "_suppliedInfo": body.get("suppliedInfo") or {},
            "_event_time": self._tick(),
        }
        self.created_with.append(dict(body))
        self.schedule_auto_decision(applicant_id)
        return self.envelope(self._public(self.applicants[applicant_id]), 201)

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
        found = self._applicant_and_body(request)
        if isinstance(found, FakeResponse):
            return found
        applicant, body = found
        problems = self._string_problems(body, ("flowId",), ())
        if problems:
            return self.error(400, problems)
        name = next((flow for flow, flow_id in self.flows.items() if flow_id == body["flowId"]), None)
        if name is None:
            return self.error(404, f"Flow {body['flowId']} not found")
        applicant.update(
            flow=samples.flow(name, int(body["flowId"])),
            flowId=int(body["flowId"]),
            status="INIT",
            updatedAt=iso(now()),
        )
        applicant["_event_time"] = self._tick()
        return self.envelope({"id": applicant["id"], "status": applicant["status"]})

    def schedule_deletion(self, request: FakeRequest) -> FakeResponse:
        applicant = self._applicant(request)
        if isinstance(applicant, FakeResponse):
            return applicant
        if not applicant["scheduledDeletionDate"]:
            applicant["scheduledDeletionDate"] = iso(now() + DELETION_GRACE)
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
        found = self._applicant_and_body(request)
        if isinstance(found, FakeResponse):
            return found
        applicant, body = found
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
        found = samples.QUESTIONNAIRES.get(unquote(request.params["questionnaire"]))
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

    def aml_details(self, request: FakeRequest) -> FakeResponse:
        record = self.aml.get(unquote(request.params["aml"]))
        kind = (request.query.get("type") or [""])[0]
        if kind not in ("WALLET", "TRANSACTION"):
            return self.error(400, ["type must be one of the following values: WALLET, TRANSACTION"])
        if record is None or record["type"] != kind:
            return self.error(404, "Crypto AML not found")
        return self.envelope(samples.aml_details(record))

    def encrypt(self, plaintext: bytes) -> tuple[str, str]:
        """(data, x-allpass-signature) in the application's configured mode."""
        if self.webhook_mode == "gcm":
            return encrypt_gcm(self.crypto_key, plaintext, iv_length=self.gcm_iv_length)
        return encrypt_cbc(self.crypto_key, self.hmac_key, plaintext)
