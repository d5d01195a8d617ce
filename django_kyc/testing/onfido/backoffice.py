"""The fake Onfido itself: its routes, and the back office that decides runs and checks and signs webhooks."""

from __future__ import annotations

import copy
import json
from typing import Any, ClassVar

from django_kyc.testing.onfido.studio import OnfidoStudio
from django_kyc.testing.onfido.vocabulary import (
    API_PREFIX,
    CHECK_ACTIONS,
    CHECK_OUTCOMES,
    REPORT_STATUS_FOR_CHECK,
    RUN_GOING,
    WATCHLIST_RECORD,
    new_id,
    now,
    sign,
)
from django_kyc.testing.server import post

_ID = "[^/]+"


class FakeOnfido(OnfidoStudio):
    """In-memory Onfido API v3.6. Constructor options (also ``--option key=value`` on the command line):

    ``api_token``: the token every call must carry (``Authorization: Token token=…``); ``webhook_token``: the
    registered webhook's token, which signs every delivery; ``callback_url``: the registered webhook's URL;
    ``workflow_id``: the only Studio workflow accepted (any when empty); ``region``: the region its ``href``
    values name.
    """

    #: A Studio run waits for the person, then Onfido processes it.
    AUTO_STEPS = ("processing",)

    routes: ClassVar[list[tuple[str, str, str]]] = [
        ("POST", f"{API_PREFIX}/applicants", "create_applicant"),
        ("GET", f"{API_PREFIX}/applicants", "list_applicants"),
        ("GET", f"{API_PREFIX}/applicants/(?P<applicant_id>{_ID})", "get_applicant"),
        ("DELETE", f"{API_PREFIX}/applicants/(?P<applicant_id>{_ID})", "delete_applicant"),
        ("POST", f"{API_PREFIX}/applicants/(?P<applicant_id>{_ID})/restore", "restore_applicant"),
        ("POST", f"{API_PREFIX}/documents", "upload_document"),
        ("GET", f"{API_PREFIX}/documents", "list_documents"),
        ("POST", f"{API_PREFIX}/sdk_token", "create_sdk_token"),
        ("POST", f"{API_PREFIX}/webhooks", "register_webhook"),
        ("POST", f"{API_PREFIX}/checks", "create_check"),
        ("GET", f"{API_PREFIX}/checks", "list_checks"),
        ("GET", f"{API_PREFIX}/checks/(?P<check_id>{_ID})", "get_check"),
        ("GET", f"{API_PREFIX}/reports", "list_reports"),
        ("GET", f"{API_PREFIX}/reports/(?P<report_id>{_ID})", "get_report"),
        ("POST", f"{API_PREFIX}/workflow_runs", "create_workflow_run"),
        ("GET", f"{API_PREFIX}/workflow_runs", "list_workflow_runs"),
        ("GET", f"{API_PREFIX}/workflow_runs/(?P<run_id>{_ID})", "get_workflow_run"),
        ("GET", f"/hosted/(?P<run_id>{_ID})", "show_run"),
        ("POST", f"/hosted/(?P<run_id>{_ID})", "submit_run"),
    ]

    # --- back office ---------------------------------------------------------------------------------
    def decide(self, ref: str, outcome: str) -> None:
        """Set workflow run ``ref`` to a run status (any string: one Onfido's enum lacks is an unknown status),
        or check ``ref`` to one of :data:`CHECK_OUTCOMES` (or any other string, as its raw status)."""
        with self.lock:
            if ref in self.runs:
                self._decide_run(ref, outcome)
            elif ref in self.checks:
                self._decide_check(ref, outcome)
            else:
                raise KeyError(f"no workflow run or check {ref!r}")

    def _decide_run(self, run_id: str, status: str) -> None:
        run = self.runs[run_id]
        run.update(status=status, updated_at=now(), error=None, reasons=[])
        if status == "declined":
            run["reasons"] = ["document_report_consider"]
        elif status == "error":
            run["error"] = {"type": "task_error", "message": "A task of the workflow failed"}

    def _decide_check(self, check_id: str, outcome: str) -> None:
        check = self.checks[check_id]
        status, result, report_result, sub_result = CHECK_OUTCOMES.get(outcome, (outcome, None, None, None))
        check.update(status=status, result=result)
        for report_id in check["report_ids"]:
            report = self.reports[report_id]
            name = str(report["name"])
            forced = name in check["consider"] and result is not None
            chosen = "consider" if forced else report_result
            report.update(status=REPORT_STATUS_FOR_CHECK.get(status, "awaiting_data"), result=chosen)
            if chosen == "consider" and sub_result in (None, "clear"):
                sub_result = "caution"  # the sandbox's ``consider`` on an otherwise clear document
            report["sub_result"] = (sub_result if chosen == "consider" else chosen) if name == "document" else None
            if name.startswith("watchlist"):
                report["properties"] = {"records": [copy.deepcopy(WATCHLIST_RECORD)] if chosen == "consider" else []}
        if status == "complete":
            check["completed_at_iso8601"] = now()

    def webhook_for(self, ref: str, outcome: str | None = None, **kwargs: Any) -> tuple[bytes, dict[str, str]]:
        """The signed delivery for ``ref``'s current state; the same state gives the same body again.

        A run that ended: ``workflow_run.completed``; a run still going: ``workflow_task.started`` naming the
        run in ``resource.workflow_run_id``; a check: the event of its status (``check.completed`` …).
        """
        with self.lock:
            if outcome is not None:
                self.decide(ref, outcome)
            fingerprint = json.dumps(self.runs.get(ref) or self.checks.get(ref), sort_keys=True, default=str)
            body = self.events.get((ref, fingerprint))
            if body is None:
                body = json.dumps({"payload": self._payload(ref)}, separators=(",", ":")).encode()
                self.events[(ref, fingerprint)] = body
        return body, {"Content-Type": "application/json", "X-SHA2-Signature": sign(body, self.webhook_token)}

    def _payload(self, ref: str) -> dict[str, Any]:
        if ref in self.runs:
            run = self.runs[ref]
            if run["status"] not in RUN_GOING:
                thing = {"id": ref, "status": run["status"], "completed_at_iso8601": now()}
                return {
                    "resource_type": "workflow_run",
                    "action": "workflow_run.completed",
                    "object": {**thing, "href": self.href(f"/workflow_runs/{ref}")},
                }
            task_id = f"task_{new_id()[:8]}"
            return {
                "resource_type": "workflow_task",
                "action": "workflow_task.started",
                "object": {
                    "id": task_id,
                    "task_def_id": "profile_data",
                    "workflow_run_id": ref,
                    "status": "started",
                    "started_at_iso8601": now(),
                    "href": self.href(f"/workflow_runs/{ref}/tasks/{task_id}"),
                },
                "resource": {"id": task_id, "workflow_run_id": ref, "task_def_id": "profile_data"},
            }
        check = self.checks[ref]
        when_key = "completed_at_iso8601" if check["status"] == "complete" else "started_at_iso8601"
        return {
            "resource_type": "check",
            "action": CHECK_ACTIONS.get(check["status"], "check.started"),
            "object": {
                "id": ref,
                "status": check["status"],
                when_key: check.get("completed_at_iso8601") or now(),
                "href": self.href(f"/checks/{ref}"),
            },
        }

    def callback_url(self, ref: str) -> str:
        """The ``callback_url`` option's webhook; :meth:`deliver` also sends to every registered one."""
        return self.default_callback_url or next((w["url"] for w in self.webhooks.values() if w["enabled"]), "")

    def deliver(self, ref: str, outcome: str | None = None, url: str | None = None) -> int:
        """POST the delivery for ``ref`` to the ``callback_url`` option (signed with ``webhook_token``) and to
        every enabled registered webhook whose ``events`` take it (signed with its own token), as Onfido sends
        one delivery per webhook; returns the last HTTP status received."""
        body, headers = self.webhook_for(ref, outcome)
        if url is not None:
            return post(url, body, headers)
        action = json.loads(body)["payload"]["action"]
        targets = [(self.default_callback_url, self.webhook_token)] if self.default_callback_url else []
        targets += [
            (w["url"], w["token"])
            for w in list(self.webhooks.values())
            if w["enabled"] and (not w["events"] or action in w["events"])
        ]
        status = 0
        for target, token in targets:
            status = post(target, body, {**headers, "X-SHA2-Signature": sign(body, token)})
        return status
