"""What the fake ARGOS answers with: ARGOS's vocabulary and the specimen data of a submission."""

from __future__ import annotations

from datetime import datetime

#: A result ARGOS does not send (for the unknown-status fallback).
UNKNOWN_RESULT = "on_hold"
#: The ``webhook_trigger`` a back-office outcome sends.
TRIGGER_FOR = {
    "approved": "approved",
    "rejected": "rejected",
    "pending": "submit",
    "incomplete": "created",
    "retry": "retry",
}
#: The query parameters ``GET /submission`` accepts; any other gets ARGOS's 400.
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
#: Shapes of the enrolment answer: the documented one, and plausible others the backend must still read.
MONITOR_ANSWERS = ("documented", "results", "summary")


def stamp(moment: datetime) -> str:
    """ARGOS's ``YYYY-MM-DD-HH-MM-SS-mmm`` (UTC)."""
    return moment.strftime("%Y-%m-%d-%H-%M-%S-") + f"{moment.microsecond // 1000:03d}"
