"""A fake ARGOS ID check API (``/v3``) and Liveform, on loopback.

It follows ARGOS's pages: header ``x-api-key`` (a wrong or missing key gets API Gateway's 403
``{"message": "Forbidden"}``), ``GET /submission`` by ``submission_id`` or as a list (``userid``, ``email``,
``count``, ``nextpage_id`` + ``nextpage_date``, ``start_date`` / ``end_date``, ``request_type``) answering
``{"Items": [...], "nextpageKey": {id, created_at}}`` newest first, ``POST /submission/review``,
``DELETE /submission``, ``GET /report/aml`` (a PDF), ``POST /submission/aml/monitor/{worklistId}``. Errors
come the vendor's ways: body codes ``{"errorCode": "invalid_format", "message": ...}`` and
``{"message": "not Exist Submission ID", "statusCode": 400}``; unknown query parameters get 400
"Invalid Query String parameters".

With ``encryption=True`` (ARGOS's "Secure Data Transmission") list answers are ``{"isEncrypted": true,
"data": <AES-256-ECB>}``, request bodies must come as ``{"body": <ciphertext>}``, webhooks are
``{"data": <ciphertext>}`` and the Liveform reads its parameters from ``encrypted=``. The key is SHA-256 of
``secret_key`` if given, else of the API key. The cipher is written here independently of the backend's, so
the two check each other.

Nothing exists until the person starts on the Liveform: :meth:`FakeArgos.submit` (or a ``GET /liveform``
with a link the backend built, :meth:`FakeArgos.open_liveform`) creates the submission, ``incomplete``.
``decide(submission_id, outcome)`` plays ARGOS's system or agents: ``approved``, ``rejected``, ``pending``,
``incomplete``, ``retry`` (a failed attempt, the person must try again) or any other string (sent as is).

Command line (the demo; open the Liveform link the example project shows, it points here)::

    python -m django_kyc.testing argos --port 8105 --option api_key=argos-demo-key \
        --option project_id=demo-project --option webhook_url=http://127.0.0.1:8000/kyc/webhooks/argos/ \
        --auto-decide approved
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import string
import threading
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django_kyc.testing.server import FakeProviderServer, FakeRequest, FakeResponse

#: A result ARGOS does not send (for the unknown-status fallback).
UNKNOWN_RESULT = "on_hold"
TRIGGER_FOR = {
    "approved": "approved",
    "rejected": "rejected",
    "pending": "submit",
    "incomplete": "created",
    "retry": "retry",
}
QUERY_PARAMETERS = frozenset(
    {
        "submission_id",
        "userid",
        "email",
        "count",
        "nextpage_id",
        "nextpage_date",
        "start_date",
        "end_date",
        "request_type",
    }
)
REQUEST_TYPES = ("kyc", "aml", "data", "others")
#: What an approved specimen submission's ``data`` holds (``decide(..., data={...})`` overrides).
SPECIMEN = {
    "name": "JANE SMITH",
    "gender": "female",
    "nationality": "GBR",
    "date_of_birth": "1990-02-03",
    "idType": "passport",
    "idcard_issuingCountry": "GBR",
    "idcard_issueDate": "2020-01-15",
    "idcard_expireDate": "2030-01-14",
    "documentNumber": "925076473",
    "ip_address": "192.0.2.10",
}
#: A tiny valid PDF (one empty page) standing in for the AML report.
REPORT_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def _stamp(moment: datetime) -> str:
    """ARGOS's ``YYYY-MM-DD-HH-MM-SS-mmm`` (UTC)."""
    return moment.strftime("%Y-%m-%d-%H-%M-%S-") + f"{moment.microsecond // 1000:03d}"


def _aes(key: bytes, data: bytes, decrypt: bool) -> bytes:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    cipher = Cipher(algorithms.AES(key), modes.ECB())  # noqa: S305 - ARGOS's protocol
    worker = cipher.decryptor() if decrypt else cipher.encryptor()
    return worker.update(data) + worker.finalize()


def encrypt(key: bytes, plaintext: bytes) -> str:
    pad = 16 - len(plaintext) % 16
    return base64.b64encode(_aes(key, plaintext + bytes([pad]) * pad, decrypt=False)).decode()


def decrypt(key: bytes, text: str) -> bytes:
    padded = _aes(key, base64.b64decode(text, validate=True), decrypt=True)
    pad = padded[-1] if padded else 0
    if not 1 <= pad <= 16 or padded[-pad:] != bytes([pad]) * pad:
        raise ValueError("bad padding")
    return padded[:-pad]


#: Shapes of the enrolment answer: the documented one, and plausible others the backend must still read.
MONITOR_ANSWERS = ("documented", "results", "summary")


class FakeArgos(FakeProviderServer):
    """Submissions in memory, several per ``userid``."""

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

    # --- provider behaviour ----------------------------------------------------------------------------
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
        submission["updated_at"] = _stamp(self._now())
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
        return FakeResponse(200, page.encode(), {"Content-Type": "text/html; charset=utf-8"})

    # --- the person and the back office ------------------------------------------------------------------
    def open_liveform(self, link: str) -> str:
        """Read a Liveform link as ARGOS's page does (``pid``, then the parameters, plain or ``encrypted=``)
        and :meth:`submit`. ``ValueError`` for a link ARGOS would refuse."""
        query = {name: values[0] for name, values in parse_qs(urlsplit(link).query).items()}
        if query.get("pid") != self.project_id:
            raise ValueError("unknown project (pid)")
        if "encrypted" in query:
            params = json.loads(decrypt(self.key, query["encrypted"]))
        elif self.encryption:
            raise ValueError("this project accepts encrypted parameters only")
        else:
            params = query
        return self.submit(
            str(params.get("userid") or ""),
            str(params.get("email") or ""),
            cf={name: str(params[name]) for name in ("cf1", "cf2", "cf3") if params.get(name)},
        )

    def submit(self, userid: str = "", email: str = "", cf: dict[str, str] | None = None) -> str:
        """The person starts on the Liveform: a new ``incomplete`` submission (its id is returned)."""
        with self.lock:
            alphabet = string.ascii_lowercase + string.digits
            submission_id = "".join(secrets.choice(alphabet) for _ in range(13))
            now = _stamp(self._now())
            applicant = next(
                (s["applicant_id"] for s in self.submissions.values() if userid and s.get("userid") == userid),
                "ap" + "".join(secrets.choice(alphabet) for _ in range(10)),
            )
            self.submissions[submission_id] = {
                "submission_id": submission_id,
                "applicant_id": applicant,
                "userid": userid,
                "email": email,
                "created_at": now,
                "updated_at": now,
                "reviewer": "system",
                "data": {**(cf or {})},
                "kyc": {"result": "incomplete", "attempts": []},
                "_trigger": "created",
                "_cf": dict(cf or {}),
            }
        self.schedule_auto_decision(submission_id)
        return submission_id

    def submission(self, ref: str) -> dict[str, Any]:
        return self.submissions[ref]

    def decide(self, ref: str, outcome: str, *, reviewer: str = "system", **fields: Any) -> None:
        """Set submission ``ref``'s ``kyc.result`` as ARGOS would (``retry``: a failed attempt, result
        ``incomplete``). ``data=`` / ``aml=`` / ``comment_code=`` override what is generated."""
        with self.lock:
            submission = self.submission(ref)
            kyc = submission["kyc"]
            now = _stamp(self._now())
            attempts = kyc.setdefault("attempts", [])
            if outcome == "retry":
                attempts.append(
                    {
                        "attemptCnt": len(attempts) + 1,
                        "verificationResult": "fail",
                        "retryCode": ["liveness_error"],
                        "retryMsg": ["Liveness fail: Face is too close to one or more borders. Please retry."],
                        "livenessScore": 0.21,
                    }
                )
                kyc["result"] = "incomplete"
            else:
                kyc["result"] = outcome
            if outcome in ("approved", "rejected", "pending") and not any(
                a.get("verificationResult") == "success" for a in attempts
            ):
                attempts.append(
                    {
                        "attemptCnt": len(attempts) + 1,
                        "verificationResult": "success",
                        "livenessScore": 0.98,
                        "faceSimilarityScore": 91.5,
                        "selfieImage": "https://fake.argos.invalid/selfie.jpg",
                    }
                )
                submission["data"] = {**SPECIMEN, **submission["_cf"]}
            if outcome == "pending":
                submission["pending_at"] = now
            if outcome in ("approved", "rejected"):
                submission["kyc_result_at"] = now
                submission["reviewer"] = reviewer
            if outcome == "rejected":
                codes = fields.get("comment_code") or ["id_info_dataMismatch"]
                kyc["commentCode"] = list(codes)
                kyc["comment"] = ["The information on the ID does not match."]
            if outcome == "approved":
                submission.setdefault(
                    "aml", {"currentstatus": "Not Screened", "risk_level_summary": "Not Screened", "matches": []}
                )
            if "data" in fields:
                submission["data"].update(fields["data"])
            if "aml" in fields:
                self.set_aml(ref, **fields["aml"])
            submission["updated_at"] = now
            submission["_trigger"] = TRIGGER_FOR.get(outcome, "updated")

    def set_aml(
        self,
        ref: str,
        currentstatus: str = "Red Flag",
        matches: list[dict[str, Any]] | None = None,
        risk_level_summary: str = "",
    ) -> None:
        """ARGOS's screening of an approved submission; each match gets a downloadable report."""
        with self.lock:
            submission = self.submission(ref)
            rows = []
            for index, match in enumerate(matches or []):
                resource = str(match.get("resource_id") or f"res-{ref}-{index}")
                rows.append(
                    {
                        "risk_level": "HIGH",
                        "argos_number": f"AN{index:04d}",
                        "score": 90.0,
                        "risk_icons": ["SAN"],
                        **match,
                        "resource_id": resource,
                    }
                )
                self.reports[resource] = REPORT_PDF
            ranks = ["LOW", "MEDIUM", "HIGH"]
            top = max(
                (str(r["risk_level"]).upper() for r in rows),
                key=lambda level: ranks.index(level) if level in ranks else -1,
                default="",
            )
            summary = risk_level_summary or (top.title() if top else "Not Screened")
            submission["aml"] = {
                "currentstatus": currentstatus,
                "risk_level_summary": summary,
                "matches": rows,
                "raw_data": {},
            }
            submission["updated_at"] = _stamp(self._now())
            submission["_trigger"] = "aml"

    def webhook_for(self, ref: str, outcome: str | None = None, **kwargs: Any) -> tuple[bytes, dict[str, str]]:
        """The delivery as ARGOS sends it (gitbook webhook guide shape); encrypted when the project is."""
        if outcome is not None:
            self.decide(ref, outcome)
        with self.lock:
            submission = self.submission(ref)
            kyc = submission["kyc"]
            body: dict[str, Any] = {
                "webhook_trigger": kwargs.get("trigger") or submission["_trigger"],
                "kyc_result": {
                    "status": kyc["result"],
                    "created_at": submission["created_at"],
                    "updated_at": submission["updated_at"],
                    "kyc_result_at": submission.get("kyc_result_at", ""),
                    "pending_at": submission.get("pending_at", ""),
                    "reviewer": submission["reviewer"],
                },
                "submission_id": submission["submission_id"],
                "applicant_id": submission["applicant_id"],
                "email": submission["email"],
                "userid": submission["userid"],
                "cf": submission["_cf"],
            }
            if kyc["result"] == "rejected":
                body["kyc_result"]["comment"] = kyc.get("comment")
            if submission.get("aml") and body["webhook_trigger"] == "aml":
                body["aml_result"] = {k: submission["aml"][k] for k in ("currentstatus", "risk_level_summary")}
        raw = json.dumps(body).encode()
        if self.encryption:
            raw = json.dumps({"data": encrypt(self.key, raw)}).encode()
        return raw, {"Content-Type": "application/json"}

    def callback_url(self, ref: str) -> str:
        """ARGOS has one webhook URL per project (set in its dashboard), not one per submission."""
        return self.webhook_url

    def applicant_count(self) -> int:
        """Submissions at ARGOS (there are no other records)."""
        return len(self.submissions)

    def schedule_auto_decision(self, ref: str) -> None:
        """The demo: ``auto_delay`` after the person started, the submission goes ``pending`` and then gets
        the ``--auto-decide`` result, each with its webhook (when ``webhook_url`` is set)."""
        if not self.auto_outcome:
            return
        steps = ["pending", self.auto_outcome]

        def run() -> None:
            for outcome in steps:
                stop.wait(self.auto_delay)
                try:
                    self.decide(ref, outcome)
                    if self.webhook_url:
                        self.deliver(ref)
                except Exception:
                    import logging

                    logging.getLogger("django_kyc.testing").exception("argos: auto decision for %s failed", ref)
                    return

        stop = threading.Event()
        threading.Thread(target=run, name=f"argos-auto-{ref}", daemon=True).start()


def urlencode_query(query: dict[str, list[str]]) -> str:
    from urllib.parse import urlencode

    return urlencode([(name, value) for name, values in query.items() for value in values])


SERVER = FakeArgos
