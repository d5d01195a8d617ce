"""The fake Onfido's Studio: workflow runs (with an SDK token and a link) and the hosted page the link opens,
the fake's own stand-in for Onfido's capture flow."""

from __future__ import annotations

import copy
import html
import threading
from datetime import datetime
from typing import Any

from django_kyc.testing.onfido.api import OnfidoRecords
from django_kyc.testing.onfido.vocabulary import new_id, now, sdk_token
from django_kyc.testing.server import FakeRequest, FakeResponse


class OnfidoStudio(OnfidoRecords):
    """``/workflow_runs`` and the hosted page."""

    def create_workflow_run(self, request: FakeRequest) -> FakeResponse:
        data = self.body(request)
        if isinstance(data, FakeResponse):
            return data
        problems: dict[str, list[str]] = {}
        workflow_id = str(data.get("workflow_id") or "")
        if not workflow_id:
            problems["workflow_id"] = ["can't be blank"]
        elif self.workflow_id and workflow_id != self.workflow_id:
            problems["workflow_id"] = ["not found"]
        applicant_id = str(data.get("applicant_id") or "")
        if self.live_applicant(applicant_id) is None:
            problems["applicant_id"] = ["not found"]
        tags = data.get("tags") or []
        if not isinstance(tags, list) or len(tags) > 30 or any(not 1 <= len(str(t)) <= 128 for t in tags):
            problems["tags"] = ["at most 30 tags of 1 to 128 characters"]
        if len(str(data.get("customer_user_id") or "")) > 256:
            problems["customer_user_id"] = ["is too long (at most 256 characters)"]
        link = data.get("link") or {}
        expires_at = link.get("expires_at") if isinstance(link, dict) else None
        if not isinstance(link, dict):
            problems["link"] = ["must be an object"]
        elif expires_at is not None:
            try:
                datetime.fromisoformat(str(expires_at).replace("Z", "+00:00"))
            except ValueError:
                problems["link.expires_at"] = ["must be a date-time"]
        if problems:
            return self.invalid(problems)
        run_id = new_id()
        self.runs[run_id] = {
            "id": run_id,
            "applicant_id": applicant_id,
            "workflow_id": workflow_id,
            "workflow_version_id": 1,
            "status": "awaiting_input",
            "dashboard_url": f"https://dashboard.onfido.com/results/{run_id}",
            "output": None,
            "reasons": [],
            "error": None,
            "tags": tags,
            "customer_user_id": data.get("customer_user_id"),
            "link": {
                "url": f"{self.base_url}/hosted/{run_id}",
                "completed_redirect_url": link.get("completed_redirect_url"),
                "expired_redirect_url": link.get("expired_redirect_url"),
                "expires_at": expires_at,
                "language": link.get("language"),
            },
            "created_at": now(),
            "updated_at": now(),
        }
        self.schedule_auto_decision(run_id)
        answer = self.run_view(run_id)
        answer["sdk_token"] = sdk_token(applicant_id)  # only the create call answers with a token
        return FakeResponse(201, answer)

    def run_view(self, run_id: str) -> dict[str, Any]:
        return {**copy.deepcopy(self.runs[run_id]), "sdk_token": None}

    def get_workflow_run(self, request: FakeRequest) -> FakeResponse:
        if request.params["run_id"] not in self.runs:
            return self.error(404, "Resource not found")
        return FakeResponse(200, self.run_view(request.params["run_id"]))

    def list_workflow_runs(self, request: FakeRequest) -> FakeResponse:
        """A bare JSON array, filtered by ``applicant_id``, ``status`` (comma-separated) and ``tags``."""
        applicant_id = (request.query.get("applicant_id") or [""])[0]
        statuses = {s for value in request.query.get("status") or [] for s in value.split(",") if s}
        tags = set(request.query.get("tags") or [])
        listed = [
            self.run_view(run_id)
            for run_id, run in self.runs.items()
            if (not applicant_id or run["applicant_id"] == applicant_id)
            and (not statuses or run["status"] in statuses)
            and tags <= set(run["tags"] or [])
        ]
        return FakeResponse(200, listed)

    # --- the hosted page -----------------------------------------------------------------------------
    def show_run(self, request: FakeRequest) -> FakeResponse:
        run = self.runs.get(request.params["run_id"])
        if run is None or run["status"] != "awaiting_input":
            return FakeResponse.html("<p>This link is no longer valid.</p>", 410)
        page = (
            "<!doctype html><title>Onfido (fake)</title><h1>Onfido verification (fake)</h1>"
            f'<form method="post" action="/hosted/{html.escape(run["id"])}">'
            "<p>Onfido's flow captures a document and a selfie here.</p><button>Submit</button></form>"
        )
        return FakeResponse.html(page)

    def submit_run(self, request: FakeRequest) -> FakeResponse:
        """The person finishes the flow: the run turns ``processing`` and Onfido's webhook follows."""
        run = self.runs.get(request.params["run_id"])
        if run is None or run["status"] != "awaiting_input":
            return FakeResponse.html("<p>This link is no longer valid.</p>", 410)
        self.decide(run["id"], "processing")
        if self.callback_url(run["id"]):
            threading.Thread(target=self.deliver, args=(run["id"],), daemon=True).start()
        redirect = run["link"].get("completed_redirect_url")
        if redirect:
            return FakeResponse(303, b"", {"Location": redirect, "Content-Type": "text/html"})
        return FakeResponse.html("<p>Thank you, your verification was submitted.</p>", 200)
