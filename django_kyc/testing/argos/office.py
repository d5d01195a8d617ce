"""The fake ARGOS's people: the person on the Liveform and ARGOS's system and agents deciding, each change
with the webhook ARGOS would send for it."""

from __future__ import annotations

import json
import secrets
import string
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django_kyc.testing.argos.cipher import decrypt, encrypt
from django_kyc.testing.argos.specimens import REPORT_PDF, SPECIMEN, TRIGGER_FOR, stamp
from django_kyc.testing.argos.state import ArgosProject


class ArgosOffice(ArgosProject):
    """The back office of :class:`ArgosProject`: :meth:`submit` / :meth:`open_liveform` create submissions,
    :meth:`decide` and :meth:`set_aml` change them, :meth:`webhook_for` is the delivery that follows."""

    #: The submission goes ``pending`` before the ``--auto-decide`` result, each with its webhook.
    AUTO_STEPS = ("pending",)

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
            now = stamp(self._now())
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

    def decide(self, ref: str, outcome: str, *, reviewer: str = "system", **fields: Any) -> None:
        """Set submission ``ref``'s ``kyc.result`` as ARGOS would (``retry``: a failed attempt, result
        ``incomplete``). ``data=`` / ``aml=`` / ``comment_code=`` override what is generated."""
        with self.lock:
            submission = self.submission(ref)
            kyc = submission["kyc"]
            now = stamp(self._now())
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
            submission["updated_at"] = stamp(self._now())
            submission["_trigger"] = "aml"

    def webhook_for(self, ref: str, outcome: str | None = None, **kwargs: Any) -> tuple[bytes, dict[str, str]]:
        """The delivery as ARGOS sends it (the shape of ARGOS's webhook guide, ``docs/providers/argos.md``);
        encrypted when the project is."""
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
