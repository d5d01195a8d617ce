"""The fake Allpass's back office: the person working through the flow, Allpass's compliance officer deciding,
and the encrypted webhooks that announce it."""

from __future__ import annotations

import json
import logging
from typing import Any

from django_kyc.testing.allpass import samples
from django_kyc.testing.allpass.api import AllpassApi
from django_kyc.testing.allpass.vendor import EVENTS, iso, now

logger = logging.getLogger("django_kyc.testing")


class FakeAllpass(AllpassApi):
    """The Open API (:class:`~django_kyc.testing.allpass.api.AllpassApi`) plus what tests and the demo drive."""

    #: The person works through the flow before the decision, each step with its webhook.
    AUTO_STEPS = ("IN_PROGRESS", "COMPLETED")

    def applicant(self, ref: str) -> dict[str, Any]:
        return self.applicants[ref]

    def token_for(self, ref: str) -> dict[str, Any]:
        """The latest token minted for applicant ``ref``."""
        return self.tokens[ref][-1]

    def settle_aml(self, aml_id: str) -> None:
        """Finish a search that was still being analysed (``pending`` in its address)."""
        with self.lock:
            self.aml[aml_id]["ready"] = True

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
            applicant["updatedAt"] = iso(now())
            applicant["_event_time"] = self._tick()
            review = applicant["review"]
            review.update(status=outcome, version=review["version"] + 1)
            if outcome == "REJECTED":
                review["comment"] = comment if comment is not None else "Document is expired"
                review["warnings"] = warnings if warnings is not None else ["FACE_MISMATCH"]
            elif comment is not None or warnings is not None:
                review.update(comment=comment, warnings=warnings)
            if outcome in samples.SERVICES_RUN:
                applicant["servicesData"] = samples.services_data(outcome)

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

    def callback_url(self, ref: str) -> str:
        """Allpass sends every webhook of an application to the one URL set in the Workplace."""
        return self.webhook_url

    def applicant_count(self) -> int:
        return len(self.applicants)
