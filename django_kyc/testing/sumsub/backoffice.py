"""The fake Sumsub itself: its routes, and the back office that decides reviews and signs webhooks."""

from __future__ import annotations

import json
import time
from typing import Any, ClassVar

from django_kyc.testing.sumsub.api import SumsubApi
from django_kyc.testing.sumsub.vocabulary import OTHER_WEBHOOK_TYPE, OUTCOMES, WEBHOOK_TYPES, payload_digest

_APPLICANT = "(?P<applicant_id>[^/]+)"


class FakeSumsub(SumsubApi):
    """In-memory Sumsub. Constructor options (also ``--option key=value`` on the command line):

    ``app_token`` / ``secret_key``: the pair every request must be signed with; ``webhook_secret``: the webhook's
    secret key deliveries are signed with; ``digest_algorithm``: ``HMAC_SHA1_HEX``, ``HMAC_SHA256_HEX`` (the
    default) or ``HMAC_SHA512_HEX``; ``level_name``: the only level that exists (any when empty);
    ``webhook_url``: where webhooks go.
    """

    routes: ClassVar[list[tuple[str, str, str]]] = [
        ("POST", "/resources/applicants", "create_applicant"),
        ("GET", f"/resources/applicants/{_APPLICANT}/one", "get_applicant"),
        ("GET", f"/resources/applicants/{_APPLICANT}/status", "get_status"),
        ("GET", f"/resources/applicants/{_APPLICANT}/requiredIdDocsStatus", "required_id_docs_status"),
        ("POST", f"/resources/applicants/{_APPLICANT}/info/idDoc", "add_id_doc"),
        ("POST", f"/resources/applicants/{_APPLICANT}/status/pending", "request_check"),
        ("POST", f"/resources/applicants/{_APPLICANT}/status/testCompleted", "test_completed"),
        ("POST", f"/resources/applicants/{_APPLICANT}/-/approve", "approve"),
        ("POST", f"/resources/applicants/{_APPLICANT}/-/reject", "reject"),
        ("PATCH", f"/resources/applicants/{_APPLICANT}/presence/(?P<presence>activated|deactivated)", "presence"),
        ("POST", "/resources/accessTokens/sdk", "sdk_token"),
    ]
    AUTO_STEPS = ("pending",)

    # --- back office ---------------------------------------------------------------------------------
    def decide(self, ref: str, outcome: str, *, reject_labels: list[str] | None = None) -> None:
        """Set applicant ``ref``'s review to one of :data:`OUTCOMES` (``reject_labels`` overrides the labels)."""
        with self.lock:
            if outcome not in OUTCOMES:
                raise ValueError(f"unknown outcome {outcome!r}; choose from {sorted(OUTCOMES)}")
            status, result = OUTCOMES[outcome]
            if result is not None and reject_labels is not None:
                result = {**result, "rejectLabels": list(reject_labels)}
            self.set_review(ref, status, result)

    def capture(self, ref: str, id_doc_type: str = "PASSPORT", country: str = "GBR") -> str:
        """Play the person uploading a document in the WebSDK: an image of ``id_doc_type`` for applicant ``ref``
        (its image id is returned)."""
        with self.lock:
            metadata = {"idDocType": id_doc_type, "country": country}
            applicant = self.applicants[ref]
            if not any((d["idDocType"], d["country"]) == (id_doc_type, country) for d in applicant["idDocs"]):
                applicant["idDocs"].append(metadata)
            return self.store_image(ref, metadata, "sdk.jpg", "image/jpeg", b"\xff\xd8 captured")

    def webhook_for(self, ref: str, outcome: str | None = None, **kwargs: Any) -> tuple[bytes, dict[str, str]]:
        """The signed webhook for ``ref``'s current review; the same review gives the same body again (a resend)."""
        with self.lock:
            if outcome is not None:
                self.decide(ref, outcome)
            applicant = self.applicants[ref]
            review = applicant["review"]
            key = (ref, review["version"])
            body = self.events.get(key)
            if body is None:
                body = json.dumps(self._payload(applicant), separators=(",", ":")).encode()
                self.events[key] = body
        return body, self.webhook_headers(body)

    def webhook_headers(self, body: bytes, algorithm: str | None = None) -> dict[str, str]:
        chosen = algorithm or self.digest_algorithm
        return {
            "Content-Type": "application/json",
            "X-Payload-Digest": payload_digest(self.webhook_secret, body, chosen),
            "X-Payload-Digest-Alg": chosen,
        }

    def _payload(self, applicant: dict[str, Any]) -> dict[str, Any]:
        review = applicant["review"]
        status = review["reviewStatus"]
        stamp = review.get("createdAtMs") or self.tick()
        payload: dict[str, Any] = {
            "applicantId": applicant["id"],
            "inspectionId": applicant["inspectionId"],
            "correlationId": f"req-{applicant['id']}-{review['version']}",
            "externalUserId": applicant["externalUserId"],
            "levelName": applicant["levelName"],
            "type": WEBHOOK_TYPES.get(status, OTHER_WEBHOOK_TYPE),
            "reviewStatus": status,
            "createdAtMs": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(stamp / 1000)) + f".{stamp % 1000:03d}",
            "clientId": applicant["clientId"],
        }
        if review.get("reviewResult") is not None:
            payload["reviewResult"] = dict(review["reviewResult"])
        return payload

    def callback_url(self, ref: str) -> str:
        return self.webhook_url
