"""The fake ARGOS's project: credentials, encryption, what it holds, and the answers every endpoint shares."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any

from django_kyc.testing.argos.cipher import decrypt, encrypt
from django_kyc.testing.argos.specimens import MONITOR_ANSWERS
from django_kyc.testing.server import FakeProviderServer, FakeRequest, FakeResponse


class ArgosProject(FakeProviderServer):
    """One ARGOS project: its API key, admins, encryption and submissions (several per ``userid``)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str = "argos-test-key",
        project_id: str = "argos-test-project",
        admin: str = "admin@example.com",
        encryption: bool | str = False,
        secret_key: str = "",
        webhook_url: str = "",
        monitor_answer: str = "documented",
        gone_message: str = "not Exist Submission Data",
    ) -> None:
        super().__init__(host, port)
        if monitor_answer not in MONITOR_ANSWERS:
            raise ValueError(f"monitor_answer must be one of {MONITOR_ANSWERS}")
        #: the shape of the enrolment answer: ARGOS's documented one, or another plausible one
        self.monitor_answer = monitor_answer
        #: what DELETE answers for a submission ARGOS does not (or no longer) hold: its page lists
        #: "not Exist Submission Data", its error example shows "not Exist Submission ID"
        self.gone_message = gone_message
        self.api_key = api_key
        self.project_id = project_id
        self.admins = {admin}
        self.encryption = encryption if isinstance(encryption, bool) else encryption.lower() in ("1", "true", "ecb")
        self.key = hashlib.sha256((secret_key or api_key).encode()).digest()
        self.webhook_url = webhook_url
        self.submissions: dict[str, dict[str, Any]] = {}
        self.reports: dict[str, bytes] = {}
        self.monitored: dict[str, list[str]] = {}
        #: (worklist, record id) -> monitoring record, as ``GET /submission/aml/monitor/{w}/{r}`` shows it
        self.records: dict[tuple[str, str], dict[str, Any]] = {}
        self.reviews: list[dict[str, Any]] = []
        self.deleted: list[dict[str, str]] = []
        self._clock = datetime(2000, 1, 1, tzinfo=timezone.utc)

    @property
    def api_base(self) -> str:
        return f"{self.base_url}/v3"

    @property
    def liveform_url(self) -> str:
        return f"{self.base_url}/liveform"

    def _now(self) -> datetime:
        """Strictly increasing millisecond timestamps, so every update orders after the previous one."""
        moment = datetime.now(timezone.utc)
        self._clock = max(moment, self._clock + timedelta(milliseconds=1))
        return self._clock

    def submission(self, ref: str) -> dict[str, Any]:
        return self.submissions[ref]

    def applicant_count(self) -> int:
        """Submissions at ARGOS (there are no other records)."""
        return len(self.submissions)

    def callback_url(self, ref: str) -> str:
        """ARGOS has one webhook URL per project (set in its dashboard), not one per submission."""
        return self.webhook_url

    # --- what every endpoint shares --------------------------------------------------------------------
    def error(self, status: int, message: str, **extra: Any) -> FakeResponse:
        body: dict[str, Any] = {"message": message, "statusCode": status}
        if extra.get("code"):
            body = {"errorCode": extra["code"], "message": message}
        return FakeResponse(status, body)

    def authenticate(self, request: FakeRequest) -> FakeResponse | None:
        if request.path.startswith("/liveform"):
            return None  # the hosted page is public; the project id selects the project
        if not secrets.compare_digest(request.header("x-api-key").encode(), self.api_key.encode()):
            return FakeResponse(403, {"message": "Forbidden"})  # API Gateway's answer
        return None

    def _answer(self, body: Any) -> FakeResponse:
        if self.encryption:
            return FakeResponse(200, {"isEncrypted": True, "data": encrypt(self.key, json.dumps(body).encode())})
        return FakeResponse(200, body)

    def _body(self, request: FakeRequest) -> dict[str, Any] | FakeResponse:
        body = request.json()
        if self.encryption and isinstance(body, dict):
            if not isinstance(body.get("body"), str):
                return self.error(400, "Decryption is Failed. Please check the api-key.")
            try:
                body = json.loads(decrypt(self.key, body["body"]))
            except ValueError:
                return self.error(400, "Decryption is Failed. Please check the api-key.")
        if not isinstance(body, dict):
            return self.error(400, "Invalid payload", code="invalid_payload")
        return body

    @staticmethod
    def _one(request: FakeRequest, name: str) -> str:
        values = request.query.get(name) or [""]
        return values[0]
