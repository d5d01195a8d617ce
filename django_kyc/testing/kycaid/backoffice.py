"""The fake KYCAID itself: its routes, and the back office that decides verifications and signs callbacks."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from typing import Any, ClassVar

from django_kyc.testing.kycaid.verifications import KycaidVerifications
from django_kyc.testing.kycaid.vocabulary import OUTCOMES, REASON_IDS, check_results, new_id, sign

_ID = "[^/]+"


class FakeKycaid(KycaidVerifications):
    """In-memory KYCAID. Constructor options (also ``--option key=value`` on the command line):

    ``api_token``: the token every call must carry and callbacks are signed with; ``extra_tokens``: more
    tokens accepted for API calls (a comma-separated string or a list; for rotation tests); ``form_id``:
    the only form id accepted (any when empty); ``callback_url``: where callbacks of form-mode
    verifications go (the form's Dashboard setting); ``verification_attempts``: attempts per form
    verification (empty = unlimited, reported as ``null``).
    """

    routes: ClassVar[list[tuple[str, str, str]]] = [
        ("POST", "/applicants", "create_applicant"),
        ("GET", f"/applicants/(?P<applicant_id>{_ID})", "get_applicant"),
        ("PATCH", f"/applicants/(?P<applicant_id>{_ID})", "update_applicant"),
        ("POST", "/files", "create_file"),
        ("PUT", f"/files/(?P<file_id>{_ID})", "replace_file"),
        ("POST", "/documents", "create_document"),
        ("GET", f"/documents/(?P<document_id>{_ID})", "get_document"),
        ("PATCH", f"/documents/(?P<document_id>{_ID})", "update_document"),
        ("DELETE", f"/documents/(?P<document_id>{_ID})", "delete_document"),
        ("POST", "/verifications", "create_verification"),
        ("GET", f"/verifications/(?P<verification_id>{_ID})", "get_verification"),
        ("POST", f"/forms/(?P<form_id>{_ID})/urls", "create_form_url"),
        ("GET", f"/hosted/(?P<form_token>{_ID})", "show_form"),
        ("POST", f"/hosted/(?P<form_token>{_ID})", "submit_form"),
    ]

    # --- back office ---------------------------------------------------------------------------------
    def decide(
        self,
        ref: str,
        outcome: str,
        *,
        reasons: Sequence[str] | None = None,
        attempts_left: int | str | None = "keep",
    ) -> None:
        """Set verification ``ref`` to one of :data:`OUTCOMES` (``reasons`` overrides the decline reasons).

        Moving from ``unused`` to ``pending`` uses one form attempt, as submitting a form does.
        """
        with self.lock:
            if outcome not in OUTCOMES:
                raise ValueError(f"unknown outcome {outcome!r}; choose from {sorted(OUTCOMES)}")
            verification = self.verifications[ref]
            status, verified, default_reasons = OUTCOMES[outcome]
            chosen = tuple(default_reasons if reasons is None else reasons)
            if verification["status"] == "unused" and status == "pending" and verification["attempts_left"]:
                verification["attempts_left"] -= 1
            if attempts_left != "keep":
                verification["attempts_left"] = attempts_left
            verification["status"] = status
            verification["verified"] = verified
            verification["verifications"] = {} if status == "unused" else check_results(verified, chosen)
            applicant = self.applicants[verification["applicant_id"]]
            applicant["profile_status"] = "valid" if status == "completed" and verified is not None else None
            for document in self.documents.values():
                if document["applicant_id"] != verification["applicant_id"]:
                    continue
                if status == "completed" and verified is True:
                    document.update(status="valid", decline_reasons=[], decline_reasons_ids=None)
                elif status == "completed" and verified is False:
                    document.update(
                        status="invalid",
                        decline_reasons=list(chosen),
                        decline_reasons_ids=[REASON_IDS[r] for r in chosen if r in REASON_IDS],
                    )
                else:
                    document.update(status="new", decline_reasons=[], decline_reasons_ids=None)

    def webhook_for(self, ref: str, outcome: str | None = None, **kwargs: Any) -> tuple[bytes, dict[str, str]]:
        """The signed callback for ``ref``'s current state: ``VERIFICATION_COMPLETED`` once completed, else
        ``VERIFICATION_STATUS_CHANGED``. The same state gives the same body (and ``request_id``)."""
        with self.lock:
            if outcome is not None:
                self.decide(ref, outcome)
            verification = self.verifications[ref]
            applicant = self.applicant_view(verification["applicant_id"])
            fingerprint = json.dumps([verification, applicant["documents"]], sort_keys=True, default=str)
            body = self.events.get((ref, fingerprint))
            if body is None:
                body = json.dumps(self._callback(verification, applicant)).encode()
                self.events[(ref, fingerprint)] = body
        return body, {"Content-Type": "application/json", "x-data-integrity": sign(body, self.api_token)}

    @staticmethod
    def _callback(verification: dict[str, Any], applicant: dict[str, Any]) -> dict[str, Any]:
        common = {
            "request_id": new_id(),
            "applicant_id": verification["applicant_id"],
            "verification_id": verification["verification_id"],
            "form_id": verification["form_id"],
            "form_token": verification["form_token"],
        }
        if verification["status"] == "completed":
            return {
                "type": "VERIFICATION_COMPLETED",
                **common,
                "status": "completed",
                "verified": verification["verified"],
                "verifications": copy.deepcopy(verification["verifications"]),
                "applicant": applicant,
            }
        return {
            "type": "VERIFICATION_STATUS_CHANGED",
            **common,
            "external_applicant_id": applicant.get("external_applicant_id"),
            "verification_status": verification["status"],
            "verification_attempts_left": verification["attempts_left"],
        }

    def callback_url(self, ref: str) -> str:
        url = str(self.verifications[ref]["callback_url"] or "")
        if not url:
            raise LookupError(f"verification {ref} has no callback_url and the fake has no default callback_url")
        return url
