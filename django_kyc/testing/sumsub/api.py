"""The fake Sumsub's API endpoints: applicants, ID documents, checks, access tokens, decisions and presence."""

from __future__ import annotations

import copy
import hashlib
import json
import re
import time
import uuid
from typing import Any
from urllib.parse import unquote

from django_kyc.testing.server import FakeRequest, FakeResponse
from django_kyc.testing.sumsub.state import SumsubState
from django_kyc.testing.sumsub.vocabulary import ID_DOC_SUBTYPES, ID_DOC_TYPES, IMAGE_TYPES, new_id

_COUNTRY = re.compile(r"^[A-Z]{3}$")
#: ``idDocType`` → the verification step its images belong to.
STEPS = {
    "PASSPORT": "IDENTITY",
    "ID_CARD": "IDENTITY",
    "DRIVERS": "IDENTITY",
    "RESIDENCE_PERMIT": "IDENTITY",
    "SELFIE": "SELFIE",
    "UTILITY_BILL": "PROOF_OF_RESIDENCE",
    "BANK_STATEMENT": "PROOF_OF_RESIDENCE",
}
#: The statuses in which Sumsub refuses a check request, a reset or a deactivation: a check is running.
CHECK_RUNNING = ("pending", "queued", "prechecked")


def _now() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())


class SumsubApi(SumsubState):
    """The endpoints; the back office (:mod:`.backoffice`) adds the routes, decisions and webhooks."""

    def applicant_or_404(self, request: FakeRequest) -> dict[str, Any] | FakeResponse:
        applicant = self.find(unquote(request.params["applicant_id"]))
        return applicant if applicant is not None else self.error(404, "Applicant not found")

    # --- applicants ----------------------------------------------------------------------------------
    def create_applicant(self, request: FakeRequest) -> FakeResponse:
        level = (request.query.get("levelName") or [""])[0]
        if not level:
            return self.error(400, "levelName is required")
        if self.level_name and level != self.level_name:
            return self.error(404, f"Level '{level}' not found")
        data = self.body(request)
        if isinstance(data, FakeResponse):
            return data
        external = str(data.get("externalUserId") or f"auto-{uuid.uuid4()}")
        if any(a["externalUserId"] == external for a in self.applicants.values()):
            return self.error(409, f"Applicant with external user id '{external}' already exists")
        if "fixedInfo" in data and not isinstance(data["fixedInfo"], dict):
            return self.error(400, "fixedInfo must be an object")
        applicant_id = new_id()
        self.applicants[applicant_id] = {
            "id": applicant_id,
            "createdAt": _now(),
            "clientId": "fake-client",
            "inspectionId": new_id(),
            "externalUserId": external,
            "levelName": level,
            "email": data.get("email"),
            "phone": data.get("phone"),
            "fixedInfo": copy.deepcopy(data.get("fixedInfo") or {}),
            "type": data.get("type") or "individual",
            "deleted": False,
            "idDocs": [],
            "review": {
                "reviewId": new_id()[:8],
                "attemptId": new_id()[:8],
                "attemptCnt": 0,
                "createDate": _now(),
                "reviewStatus": "init",
                "reviewResult": None,
                "version": 0,
            },
        }
        self.schedule_auto_decision(applicant_id)
        return FakeResponse(200, self.applicant_view(applicant_id))

    def applicant_view(self, applicant_id: str) -> dict[str, Any]:
        applicant = copy.deepcopy(self.applicants[applicant_id])
        applicant["review"] = {**self.review_view(applicant), "levelName": applicant["levelName"]}
        applicant.pop("idDocs")
        return applicant

    def get_applicant(self, request: FakeRequest) -> FakeResponse:
        applicant = self.applicant_or_404(request)
        if isinstance(applicant, FakeResponse):
            return applicant
        return FakeResponse(200, self.applicant_view(applicant["id"]))

    def get_status(self, request: FakeRequest) -> FakeResponse:
        applicant = self.applicant_or_404(request)
        if isinstance(applicant, FakeResponse):
            return applicant
        return FakeResponse(200, self.review_view(applicant))

    # --- documents and checks ------------------------------------------------------------------------
    def required_id_docs_status(self, request: FakeRequest) -> FakeResponse:
        """Each step of the level with its documents' review: the applicant's review once completed (the fake
        decides every step alike), and the ids of the images in the step (integers, as Sumsub has them)."""
        applicant = self.applicant_or_404(request)
        if isinstance(applicant, FakeResponse):
            return applicant
        review = applicant["review"]
        steps: dict[str, Any] = {"IDENTITY": None, "SELFIE": None}
        for image_id, image in self.images.items():
            if image["applicantId"] != applicant["id"]:
                continue
            metadata = image["metadata"]
            name = STEPS.get(metadata["idDocType"], "ID_DOC")
            step = steps.get(name) or {
                "idDocType": metadata["idDocType"],
                "country": metadata["country"],
                "imageIds": [],
            }
            step["imageIds"].append(int(image_id))
            if review["reviewStatus"] == "completed" and review["reviewResult"] is not None:
                step["reviewResult"] = copy.deepcopy(review["reviewResult"])
            steps[name] = step
        return FakeResponse(200, steps)

    def add_id_doc(self, request: FakeRequest) -> FakeResponse:
        applicant = self.applicant_or_404(request)
        if isinstance(applicant, FakeResponse):
            return applicant
        parts = self.multipart(request)
        if parts is None:
            return self.error(400, "Content-Type must be multipart/form-data")
        if "metadata" not in parts:
            return self.error(400, "The metadata part is required")
        try:
            metadata = json.loads(parts["metadata"][2])
        except ValueError:
            return self.error(400, "metadata is not JSON")
        if not isinstance(metadata, dict):
            return self.error(400, "metadata must be a JSON object")
        if metadata.get("idDocType") not in ID_DOC_TYPES:
            return self.error(400, f"idDocType is required and must be one of {sorted(ID_DOC_TYPES)}")
        if not _COUNTRY.fullmatch(str(metadata.get("country") or "")):
            return self.error(400, "country is required: an ISO 3166-1 alpha-3 code")
        if "idDocSubType" in metadata and metadata["idDocSubType"] not in ID_DOC_SUBTYPES:
            return self.error(400, "idDocSubType must be FRONT_SIDE or BACK_SIDE")
        answer = {k: v for k, v in metadata.items() if k != "idDocSubType"}
        headers: dict[str, str] = {}
        if "content" in parts:
            filename, content_type, content = parts["content"]
            if content_type not in IMAGE_TYPES:
                return self.error(400, f"Unsupported file type {content_type}")
            headers["X-Image-Id"] = self.store_image(applicant["id"], metadata, filename, content_type, content)
        merged = next(
            (
                d
                for d in applicant["idDocs"]
                if (d["idDocType"], d["country"]) == (answer["idDocType"], answer["country"])
            ),
            None,
        )
        if merged is None:
            applicant["idDocs"].append(answer)
        else:
            merged.update(answer)  # the same type and country: the data is merged, the image added
        return FakeResponse(200, answer, headers=headers)

    def store_image(
        self, applicant_id: str, metadata: dict[str, Any], filename: str, content_type: str, content: bytes
    ) -> str:
        image_id = str(len(self.images) + 1_000_000_000)
        self.images[image_id] = {
            "applicantId": applicant_id,
            "metadata": metadata,
            "filename": filename,
            "content_type": content_type,
            "size": len(content),
            "sha256": hashlib.sha256(content).hexdigest(),
        }
        return image_id

    def request_check(self, request: FakeRequest) -> FakeResponse:
        applicant = self.applicant_or_404(request)
        if isinstance(applicant, FakeResponse):
            return applicant
        status = applicant["review"]["reviewStatus"]
        if status in CHECK_RUNNING:
            return self.error(409, f"Applicant is already in {status} status")
        if not applicant["idDocs"]:
            return self.error(409, "Not all required documents or data are submitted. Please check the required steps.")
        self.set_review(applicant["id"], "pending", None, new_attempt=True)
        return FakeResponse(200, {"ok": 1})

    # --- access tokens -------------------------------------------------------------------------------
    def sdk_token(self, request: FakeRequest) -> FakeResponse:
        data = self.body(request)
        if isinstance(data, FakeResponse):
            return data
        user_id, level = str(data.get("userId") or ""), str(data.get("levelName") or "")
        if not user_id or not level:
            return self.error(400, "userId and levelName are required")
        if self.level_name and level != self.level_name:
            return self.error(404, f"Level '{level}' not found")
        ttl = data.get("ttlInSecs", 600)
        if not isinstance(ttl, int) or isinstance(ttl, bool) or ttl <= 0:
            return self.error(400, "ttlInSecs must be a positive integer")
        token = f"_act-sbx-{uuid.uuid4()}"
        self.access_tokens[token] = {"userId": user_id, "levelName": level, "expires": time.time() + ttl}
        return FakeResponse(200, {"token": token, "userId": user_id})

    # --- decisions and presence ----------------------------------------------------------------------
    def approve(self, request: FakeRequest) -> FakeResponse:
        return self._decision(request, {"reviewAnswer": "GREEN", "rejectLabels": []})

    def reject(self, request: FakeRequest) -> FakeResponse:
        result = {"reviewAnswer": "RED", "reviewRejectType": "FINAL", "rejectLabels": ["EXTERNAL_DECISION_REJECTION"]}
        return self._decision(request, result)

    def _decision(self, request: FakeRequest, result: dict[str, Any]) -> FakeResponse:
        applicant = self.applicant_or_404(request)
        if isinstance(applicant, FakeResponse):
            return applicant
        data = self.body(request)
        if isinstance(data, FakeResponse):
            return data
        if data.get("note"):
            result = {**result, "clientComment": str(data["note"])}
        self.set_review(applicant["id"], "completed", result)
        return FakeResponse(200, self.applicant_view(applicant["id"]))

    def test_completed(self, request: FakeRequest) -> FakeResponse:
        """Sandbox only: set the review result as Sumsub's sandbox does (``status/testCompleted``)."""
        if not self.app_token.startswith("sbx:"):
            return self.error(403, "Only available with a sandbox app token")
        applicant = self.applicant_or_404(request)
        if isinstance(applicant, FakeResponse):
            return applicant
        data = self.body(request)
        if isinstance(data, FakeResponse):
            return data
        if data.get("reviewAnswer") not in ("GREEN", "RED"):
            return self.error(400, "reviewAnswer must be GREEN or RED")
        self.set_review(applicant["id"], "completed", data)
        return FakeResponse(200, {"ok": 1})

    def presence(self, request: FakeRequest) -> FakeResponse:
        applicant = self.applicant_or_404(request)
        if isinstance(applicant, FakeResponse):
            return applicant
        if applicant["review"]["reviewStatus"] in CHECK_RUNNING:
            return self.error(409, "Applicant cannot be deactivated while a check is running")
        applicant["deleted"] = request.params["presence"] == "deactivated"
        return FakeResponse(200, self.applicant_view(applicant["id"]))

    # --- the review ----------------------------------------------------------------------------------
    def set_review(
        self, applicant_id: str, status: str, result: dict[str, Any] | None, *, new_attempt: bool = False
    ) -> None:
        review = self.applicants[applicant_id]["review"]
        if new_attempt or (review["reviewStatus"] == "init" and status != "init"):
            review["attemptCnt"] += 1
            review["attemptId"] = new_id()[:8]
        review["reviewStatus"] = status
        review["reviewResult"] = copy.deepcopy(result)
        review["reviewDate"] = _now() if status == "completed" else None
        review["version"] += 1
        review["createdAtMs"] = self.tick()
