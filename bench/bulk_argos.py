"""The fake ARGOS API for the reconciliation benchmark, with a listing that costs O(page), not O(book).

:class:`django_kyc.testing.argos.FakeArgos` answers every ``GET /submission`` page by sorting and filtering
its whole submission book, which is right for tests (a handful of submissions) but makes walking a book of
N submissions cost O(N²/page) *in the fake*: at 100,000 submissions the fake, not the command, would
dominate the wall time and hide whether the command is linear. This subclass answers the plain walk (only
``count`` and the ``nextpage_*`` key, which is all reconciliation without ``--since`` sends) from a sorted
index with a binary search; any other query goes to the original code, so the answers keep the vendor's
shape and ordering (newest first, ``nextpageKey`` while more remain).
"""

from __future__ import annotations

import bisect
from typing import Any

from django_kyc.testing.argos import SPECIMEN, FakeArgos, stamp
from django_kyc.testing.server import FakeRequest, FakeResponse

#: The credentials the fake is started with and :mod:`bench.bulk_settings` gives the ``argos`` backend. Here,
#: not in the settings module, so the driver can start the fake before Django reads its settings.
ARGOS_API_KEY = "argos-bench-key"
ARGOS_PROJECT_ID = "argos-bench-project"
ARGOS_ALIAS = "argos"

_PLAIN_WALK = frozenset({"count", "nextpage_id", "nextpage_date"})


class IndexedFakeArgos(FakeArgos):
    """:class:`FakeArgos` whose plain listing walk is served from a sorted index (see the module doc)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._keys: list[tuple[str, str]] = []
        self._ordered: list[dict[str, Any]] = []
        self._indexed_count = -1

    def _index(self) -> None:
        """(Re)build the ascending (created_at, submission_id) index when the book changed size."""
        if self._indexed_count == len(self.submissions):
            return
        self._ordered = sorted(self.submissions.values(), key=lambda s: (s["created_at"], s["submission_id"]))
        self._keys = [(s["created_at"], s["submission_id"]) for s in self._ordered]
        self._indexed_count = len(self.submissions)

    def get_submissions(self, request: FakeRequest) -> FakeResponse:
        query = {name: self._one(request, name) for name in request.query}
        count_text = query.get("count") or "50"
        plain = set(query) <= _PLAIN_WALK and count_text.isdigit() and int(count_text) >= 1
        if not plain or bool(query.get("nextpage_id")) != bool(query.get("nextpage_date")):
            return super().get_submissions(request)  # validation and every filter: the original code
        self._index()
        end = len(self._keys)
        if query.get("nextpage_id"):
            end = bisect.bisect_left(self._keys, (query["nextpage_date"], query["nextpage_id"]))
        start = max(0, end - int(count_text))
        page = self._ordered[start:end][::-1]  # newest first, like the original
        body: dict[str, Any] = {"Items": [self._view(s, "") for s in page]}
        if start > 0:
            body["nextpageKey"] = {"id": page[-1]["submission_id"], "created_at": page[-1]["created_at"]}
        return self._answer(body)

    def add_approved(self, submission_id: str, userid: str, created: Any, number: str, birth_date: str) -> None:
        """Put one approved submission in the book directly, shaped like :meth:`FakeArgos.decide` makes it.

        ``submit`` + ``decide`` would do the same, but ``submit`` scans the whole book for the user's earlier
        submissions (O(N) each), which would make seeding 100,000 submissions quadratic.
        """
        when = stamp(created)
        self.submissions[submission_id] = {
            "submission_id": submission_id,
            "applicant_id": f"ap{submission_id[:10]}",
            "userid": userid,
            "email": "",
            "created_at": when,
            "updated_at": when,
            "kyc_result_at": when,
            "reviewer": "system",
            "data": {**SPECIMEN, "documentNumber": number, "date_of_birth": birth_date},
            "kyc": {
                "result": "approved",
                "attempts": [
                    {
                        "attemptCnt": 1,
                        "verificationResult": "success",
                        "livenessScore": 0.98,
                        "faceSimilarityScore": 91.5,
                        "selfieImage": "https://fake.argos.invalid/selfie.jpg",
                    }
                ],
            },
            "aml": {"currentstatus": "Not Screened", "risk_level_summary": "Not Screened", "matches": []},
            "_trigger": "approved",
            "_cf": {},
        }
