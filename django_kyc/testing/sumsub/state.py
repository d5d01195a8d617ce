"""The fake Sumsub's state and conventions: its options, what it keeps, the request signature and error bodies."""

from __future__ import annotations

import copy
import email.policy
import hmac
import time
from email.parser import BytesParser
from typing import Any

from django_kyc.testing.server import FakeProviderServer, FakeRequest, FakeResponse
from django_kyc.testing.sumsub.vocabulary import DIGESTS, new_id, request_signature

#: The constructor options, as ``--option key=value`` names them.
OPTIONS = ("app_token", "secret_key", "webhook_secret", "digest_algorithm", "level_name", "webhook_url")
#: Sumsub's tolerance for ``X-App-Access-Ts``: "within 1 minute of the API server time".
CLOCK_TOLERANCE = 60


class SumsubState(FakeProviderServer):
    """What every part of the fake Sumsub shares: applicants in memory, request signature checks and Sumsub's
    error body ``{"description", "code", "correlationId"}``."""

    provider = "sumsub"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        app_token: str = "sbx:fake-app-token",
        secret_key: str = "fake-secret-key",
        webhook_secret: str = "fake-webhook-secret",
        digest_algorithm: str = "HMAC_SHA256_HEX",
        level_name: str = "basic-kyc-level",
        webhook_url: str = "",
    ) -> None:
        super().__init__(host, port)
        if digest_algorithm not in DIGESTS:
            raise ValueError(f"digest_algorithm must be one of {sorted(DIGESTS)}")
        self.app_token = app_token
        self.secret_key = secret_key
        self.webhook_secret = webhook_secret
        self.digest_algorithm = digest_algorithm
        #: the only level that exists (any name is accepted when empty)
        self.level_name = level_name
        #: where webhooks go: Sumsub's Webhook manager has one target per webhook, not one per applicant
        self.webhook_url = webhook_url
        self.applicants: dict[str, dict[str, Any]] = {}
        self.access_tokens: dict[str, dict[str, Any]] = {}
        #: images stored by "add ID document", keyed by ``X-Image-Id``
        self.images: dict[str, dict[str, Any]] = {}
        #: the webhook body sent for each (applicant, review version), so a state is delivered the same way again
        self.events: dict[tuple[str, int], bytes] = {}
        self._clock_ms = int(time.time() * 1000)

    # --- provider conventions ------------------------------------------------------------------------
    def authenticate(self, request: FakeRequest) -> FakeResponse | None:
        """``X-App-Token`` must be ours, ``X-App-Access-Ts`` within a minute, and ``X-App-Access-Sig`` the HMAC of
        ``ts + METHOD + target + body`` exactly as received."""
        token = request.header("X-App-Token")
        if not token or not hmac.compare_digest(token, self.app_token):
            return self.error(401, "App token is missing or invalid")
        timestamp = request.header("X-App-Access-Ts")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > CLOCK_TOLERANCE:
            return self.error(401, "Request timestamp is missing or too far from the server time")
        expected = request_signature(self.secret_key, timestamp, request.method, request.target, request.body)
        if not hmac.compare_digest(expected, request.header("X-App-Access-Sig").lower()):
            return self.error(401, "Invalid signature")
        return None

    def error(self, status: int, message: str, **extra: Any) -> FakeResponse:
        return FakeResponse(status, {"description": message, "code": status, "correlationId": f"req-{new_id()}"})

    def body(self, request: FakeRequest) -> dict[str, Any] | FakeResponse:
        """The JSON object a request sent, or Sumsub's answer to a body that is not one."""
        if not request.header("Content-Type").startswith("application/json"):
            return self.error(400, "Content-Type must be application/json")
        data = request.json()
        if not isinstance(data, dict):
            return self.error(400, "Request body must be a JSON object")
        return data

    @staticmethod
    def multipart(request: FakeRequest) -> dict[str, tuple[str, str, bytes]] | None:
        """The parts of a multipart/form-data body: name → (file name, content type, content); ``None`` if the
        body is not multipart."""
        content_type = request.header("Content-Type")
        if not content_type.startswith("multipart/form-data"):
            return None
        message = BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + request.body
        )
        if not message.is_multipart():
            return None
        parts: dict[str, tuple[str, str, bytes]] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if isinstance(name, str) and isinstance(payload, bytes):
                parts[name] = (part.get_filename() or "", part.get_content_type(), payload)
        return parts

    # --- records -------------------------------------------------------------------------------------
    def tick(self) -> int:
        """A strictly growing millisecond clock for ``createdAtMs`` (two events never share a stamp)."""
        self._clock_ms = max(self._clock_ms + 1, int(time.time() * 1000))
        return self._clock_ms

    def find(self, key: str) -> dict[str, Any] | None:
        """An applicant by id, or by ``-;externalUserId=<id>`` as Sumsub's paths name it."""
        prefix = "-;externalUserId="
        if key.startswith(prefix):
            wanted = key[len(prefix) :]
            return next((a for a in self.applicants.values() if a["externalUserId"] == wanted), None)
        return self.applicants.get(key)

    @staticmethod
    def review_view(applicant: dict[str, Any]) -> dict[str, Any]:
        """``GET …/status`` as Sumsub answers it."""
        review = copy.deepcopy(applicant["review"])
        view = {
            "reviewId": review["reviewId"],
            "attemptId": review["attemptId"],
            "attemptCnt": review["attemptCnt"],
            "levelName": applicant["levelName"],
            "createDate": review["createDate"],
            "reviewStatus": review["reviewStatus"],
        }
        if review.get("reviewDate"):
            view["reviewDate"] = review["reviewDate"]
        if review.get("reviewResult") is not None:
            view["reviewResult"] = review["reviewResult"]
        return view

    def applicant_count(self) -> int:
        with self.lock:
            return len(self.applicants)
