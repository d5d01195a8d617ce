"""A fake ARGOS ID check API (``/v3``) and Liveform, on loopback.

It follows ARGOS's pages (listed in ``docs/providers/argos.md``): header ``x-api-key`` (a wrong or missing key
gets API Gateway's 403 ``{"message": "Forbidden"}``), ``GET /submission`` by ``submission_id`` or as a list
(``userid``, ``email``, ``count``, ``nextpage_id`` + ``nextpage_date``, ``start_date`` / ``end_date``,
``request_type``) answering ``{"Items": [...], "nextpageKey": {id, created_at}}`` newest first,
``POST /submission/review``, ``DELETE /submission``, ``GET /report/aml`` (a PDF), ``POST
/submission/aml/monitor/{worklistId}`` and ``GET …/{worklistId}/{recordId}``. Errors come the vendor's ways:
body codes ``{"errorCode": "invalid_format", "message": ...}`` and ``{"message": "not Exist Submission ID",
"statusCode": 400}``; unknown query parameters get 400 "Invalid Query String parameters".
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django_kyc.testing.argos.office import ArgosOffice
from django_kyc.testing.argos.specimens import QUERY_PARAMETERS, REQUEST_TYPES, stamp
from django_kyc.testing.server import FakeRequest, FakeResponse


class FakeArgos(ArgosOffice):
    """ARGOS's endpoints over :class:`~.office.ArgosOffice`'s submissions."""

    provider = "argos"
    routes = [
        ("GET", r"/v3/submission", "get_submissions"),
        ("DELETE", r"/v3/submission", "delete_submission"),
        ("POST", r"/v3/submission/review", "review"),
        ("GET", r"/v3/report/aml", "aml_report"),
        ("POST", r"/v3/submission/aml/monitor/(?P<worklist>[A-Za-z0-9_.-]+)", "monitor"),
        ("GET", r"/v3/submission/aml/monitor/(?P<worklist>[A-Za-z0-9_.-]+)/(?P<record>[A-Za-z0-9_.-]+)", "record"),
        ("GET", r"/liveform/?", "liveform"),
    ]

    def get_submissions(self, request: FakeRequest) -> FakeResponse:
        unknown = set(request.query) - QUERY_PARAMETERS
        if unknown:
            return self.error(400, "Invalid Query String parameters")
        query = {name: self._one(request, name) for name in request.query}
        count_text = query.get("count") or "50"
        if not count_text.isdigit() or int(count_text) < 1:
            return self.error(400, "Invalid format: count", code="invalid_format")
        for name in ("start_date", "end_date"):
            if query.get(name):
                try:
                    datetime.strptime(query[name], "%Y-%m-%d")
                except ValueError:
                    return self.error(400, f"Invalid format: {name}", code="invalid_format")
        if bool(query.get("nextpage_id")) != bool(query.get("nextpage_date")):
            return self.error(400, "Required input data is missing", code="missing_data")
        request_type = query.get("request_type", "")
        if request_type and request_type not in REQUEST_TYPES:
            return self.error(400, "Invalid parameter: request_type", code="invalid_parameter")
        items = sorted(self.submissions.values(), key=lambda s: (s["created_at"], s["submission_id"]), reverse=True)
        if query.get("submission_id"):
            items = [s for s in items if s["submission_id"] == query["submission_id"]]
        for name in ("userid", "email"):
            if query.get(name):
                wanted = set(query[name].split(","))
                items = [s for s in items if s.get(name) in wanted]
        if query.get("start_date"):
            items = [s for s in items if s["created_at"][:10] >= query["start_date"]]
        if query.get("end_date"):
            items = [s for s in items if s["created_at"][:10] <= query["end_date"]]
        if query.get("nextpage_id"):
            marker = (query["nextpage_date"], query["nextpage_id"])
            items = [s for s in items if (s["created_at"], s["submission_id"]) < marker]
        count = int(count_text)
        page, rest = items[:count], items[count:]
        body: dict[str, Any] = {"Items": [self._view(s, request_type) for s in page]}
        if rest:
            body["nextpageKey"] = {"id": page[-1]["submission_id"], "created_at": page[-1]["created_at"]}
        return self._answer(body)

    @staticmethod
    def _view(submission: dict[str, Any], request_type: str) -> dict[str, Any]:
        public = {k: v for k, v in submission.items() if not k.startswith("_")}
        if not request_type:
            return public
        groups = {"kyc": ("kyc",), "aml": ("aml",), "data": ("data",)}
        if request_type == "others":
            return {k: v for k, v in public.items() if k not in ("kyc", "aml", "data")}
        return {"submission_id": public["submission_id"], **{k: public[k] for k in groups[request_type] if k in public}}

    def delete_submission(self, request: FakeRequest) -> FakeResponse:
        submission_id = self._one(request, "submission_id")
        if not submission_id:
            return self.error(400, "not Exist Submission ID")
        submission = self.submissions.get(submission_id)
        if submission is None or submission.get("_deleted"):
            return self.error(400, self.gone_message)
        # personal data, images and AML data go; ids, dates, ID type and the result stay
        id_type = (submission.get("data") or {}).get("idType")
        submission["data"] = {"idType": id_type} if id_type else {}
        submission["email"] = ""
        submission.pop("aml", None)
        for attempt in submission["kyc"].get("attempts", []):
            attempt.pop("selfieImage", None)
        submission["updated_at"] = stamp(self._now())
        submission["_deleted"] = True
        admin = self._one(request, "admin_name")
        self.deleted.append({"submission_id": submission_id, "admin_name": admin})
        if admin:
            submission["_trigger"] = "delete"
        return FakeResponse(
            200,
            {"message": "success", "content": f"Submission {submission_id} deleted successfully.", "statusCode": 200},
        )

    def review(self, request: FakeRequest) -> FakeResponse:
        body = self._body(request)
        if isinstance(body, FakeResponse):
            return body
        if not body.get("admin"):
            return self.error(400, "admin is required.")
        if body["admin"] not in self.admins:
            return self.error(400, "Access denied. The admin is not registered in the project.")
        if not body.get("submissionId"):
            return self.error(400, "Submission Id is required.")
        submission = self.submissions.get(str(body["submissionId"]))
        if submission is None:
            return self.error(400, "Invalid Submission Id.")
        if submission["kyc"]["result"] != "pending":
            return self.error(400, "Only submissions in pending status can be reviewed")
        if body.get("status") not in ("approved", "rejected"):
            return self.error(400, "Invalid status")
        if body["status"] == "rejected" and not body.get("rejectComment"):
            return self.error(400, "Reject comment is required")
        self.reviews.append(dict(body))
        self.decide(submission["submission_id"], body["status"], reviewer="agent")
        if body["status"] == "rejected":
            submission["kyc"]["comment"] = [str(body["rejectComment"])]
        return FakeResponse(
            200,
            {
                "submissionId": submission["submission_id"],
                "message": "Success to review submission.",
                "finalStatus": body["status"],
            },
        )

    def aml_report(self, request: FakeRequest) -> FakeResponse:
        resource = self._one(request, "resourceId")
        if resource not in self.reports:
            return self.error(400, "Invalid resourceId")
        return FakeResponse(
            200,
            self.reports[resource],
            {"Content-Type": "application/pdf", "Content-Disposition": "attachment; filename=report.pdf"},
        )

    def monitor(self, request: FakeRequest) -> FakeResponse:
        """Register approved submissions (with a name and a birth date) in a worklist. As the vendor documents:
        per-submission results, and HTTP 500 ``all_submissions_failed`` when none could be registered. ARGOS
        does not say what a second enrolment of the same submission does; here it makes a second record, the
        case the backend must avoid."""
        body = self._body(request)
        if isinstance(body, FakeResponse):
            return body
        ids = body.get("submissionIds")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 25:
            return self.error(400, "Invalid format: submissionIds", code="invalid_submissionIds")
        if body.get("admin") not in self.admins:
            return self.error(400, "Invalid admin", code="invalid_admin")
        worklist = request.params["worklist"]
        done, failed = [], []
        for submission_id in ids:
            submission = self.submissions.get(str(submission_id))
            data = (submission or {}).get("data") or {}
            if (
                submission is None
                or submission["kyc"]["result"] != "approved"
                or not (data.get("name") and data.get("date_of_birth"))
            ):
                failed.append(
                    {
                        "submissionId": submission_id,
                        "recordIds": [],
                        "status": "failed",
                        "error": f"This submission is not approved: {submission_id}",
                    }
                )
                continue
            record_id = f"{secrets.token_hex(6)}_{submission_id}"  # the docs' example: "<12 chars>_<submission>"
            self.records[(worklist, record_id)] = {
                "name": data["name"],
                "id": record_id,
                "submissionId": submission_id,
                "nationality": data.get("nationality", ""),
                "status": "screenedNoMatches",
                "dob": data["date_of_birth"],
                "email": submission["email"],
                "memo": "",
                "tags": [],
                "admin": body["admin"],
                "updateTime": self._now().isoformat().replace("+00:00", "Z"),
                "openCount": 0,
                "falsePositiveCount": 0,
                "truePositiveCount": 0,
                "discardedCount": 0,
            }
            self.monitored.setdefault(worklist, []).append(str(submission_id))
            done.append({"submissionId": submission_id, "recordIds": [record_id], "status": "success"})
        if not done:
            return self.error(500, "All submissions failed to process", code="all_submissions_failed")
        return FakeResponse(200, self._monitor_answer(done, failed))

    def _monitor_answer(self, done: list[dict[str, Any]], failed: list[dict[str, Any]]) -> dict[str, Any]:
        if self.monitor_answer == "results":
            return {
                "results": [
                    {"submissionId": item["submissionId"], "recordId": (item["recordIds"] or [""])[0], **item}
                    for item in (*done, *failed)
                ]
            }
        if self.monitor_answer == "summary":
            return {"summary": {"successCount": len(done), "failedCount": len(failed)}}
        return {
            "success": bool(done),
            "successCount": len(done),
            "failedCount": len(failed),
            "successResults": done,
            "failedResults": failed,
        }

    def record(self, request: FakeRequest) -> FakeResponse:
        """``GET /submission/aml/monitor/{worklistId}/{recordId}``; the vendor shows no error for an unknown
        record, this answers 404 in ARGOS's ``{"message", "statusCode"}`` form."""
        found = self.records.get((request.params["worklist"], request.params["record"]))
        if found is None:
            return self.error(404, "not Exist Record")
        return self._answer(dict(found))

    def liveform(self, request: FakeRequest) -> FakeResponse:
        """The person opens the link and starts: ARGOS creates the submission (``incomplete``)."""
        try:
            submission_id = self.open_liveform(f"{self.liveform_url}?{urlencode_query(request.query)}")
        except ValueError as exc:
            return FakeResponse(400, f"<p>{exc}</p>".encode(), {"Content-Type": "text/html"})
        page = f"<!doctype html><title>ARGOS Liveform (fake)</title><p>Submission {submission_id} received.</p>"
        return FakeResponse.html(page)


def urlencode_query(query: dict[str, list[str]]) -> str:
    """A parsed query string (``FakeRequest.query``) encoded again."""
    return urlencode([(name, value) for name, values in query.items() for value in values])
