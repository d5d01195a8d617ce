"""Submitting one verification to KYCAID, in either integration mode.

API mode: the applicant, each document's files, each document, then the verification. Form mode: the
applicant when we can pre-fill the form, then a one-time form URL. Every id is committed the moment KYCAID
hands it out (the backend's checkpoints), so a submission retried after a crash reuses what it already made;
a create call whose answer was lost is looked up where KYCAID offers a way (documents) and reported as a
possible duplicate everywhere else (``docs/providers/kycaid.md`` has the table).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django_kyc.backends.base import ClientToken, ProviderState, Submission
from django_kyc.backends.parsing import text
from django_kyc.exceptions import PermanentProviderError
from django_kyc.status import DocumentStatus, VerificationStatus

if TYPE_CHECKING:
    from django_kyc.backends.kycaid.backend import KycaidBackend
    from django_kyc.models import Document, DocumentFile, Verification

logger = logging.getLogger("django_kyc.kycaid")

#: A KYCAID document's file slots, in the order our sides fill them.
SLOTS = ("front_side_id", "back_side_id", "other_side_1_id", "other_side_2_id", "other_side_3_id")
_SIDE_ORDER = {"front": 0, "single": 1, "back": 2}
#: Documents not worth sending: refused, out of date or erased on our side.
_NOT_SENT = (DocumentStatus.PURGED, DocumentStatus.REJECTED, DocumentStatus.EXPIRED)


class KycaidSubmission:
    """One attempt at submitting ``verification`` through ``backend`` (its options, client and checkpoints)."""

    def __init__(self, backend: KycaidBackend, verification: Verification) -> None:
        self.backend = backend
        self.verification = verification
        self.client = backend.client

    # --- API mode ------------------------------------------------------------------------------------
    def api(self) -> Submission:
        verification = self.verification
        applicant_id = self.applicant()
        self.documents(applicant_id)
        if not verification.provider_verification_id:
            payload: dict[str, Any] = {"applicant_id": applicant_id, "form_id": self.backend.option("FORM_ID")}
            if self.backend.option("CALLBACK_URL"):
                payload["callback_url"] = self.backend.option("CALLBACK_URL")
            # billed, and KYCAID documents no way to find a verification but by its id: a lost answer is
            # reported as a possible duplicate (a second billed verification)
            with self.backend.creating(verification, "verification", "POST /verifications") as call:
                call.remember(provider_verification_id=self.client.create_verification(payload))
        return Submission(
            state=ProviderState(status=VerificationStatus.PROCESSING, provider_status="pending"),
            provider_applicant_id=applicant_id,
            provider_verification_id=verification.provider_verification_id,
        )

    def applicant(self) -> str:
        """The KYCAID applicant: ours already, an earlier verification's (brought up to date: KYCAID declines
        duplicate applicants with ``DUPLICATE``), or a new one."""
        verification = self.verification
        if verification.provider_applicant_id:
            return verification.provider_applicant_id
        fields = person_fields(verification)
        previous = previous_applicant(verification)
        if previous is not None:
            applicant_id = previous.provider_applicant_id
            # a resubmission often fixes a name or a date of birth
            self.client.update_applicant(
                applicant_id, {k: v for k, v in fields.items() if k not in ("type", "external_applicant_id")}
            )
            self.backend.remember(
                verification,
                provider_applicant_id=applicant_id,
                provider_data={"kycaid_documents": dict(previous.provider_data.get("kycaid_documents") or {})},
            )
            return applicant_id
        # KYCAID documents no search by external_applicant_id: a lost answer is reported, not looked up
        with self.backend.creating(verification, "applicant", "POST /applicants") as call:
            applicant_id = self.client.create_applicant(fields)
            call.remember(provider_applicant_id=applicant_id)
        return applicant_id

    def documents(self, applicant_id: str) -> None:
        """Each of the applicant's documents not sent yet: its files, then the document."""
        verification = self.verification
        documents = dict(verification.provider_data.get("kycaid_documents") or {})
        files = dict(verification.provider_data.get("kycaid_files") or {})
        skipped: list[str] = []
        for document in documents_to_send(verification):
            if str(document.pk) in documents:
                continue
            kycaid_type = self.backend.document_type(document.type)
            if not kycaid_type:
                skipped.append(str(document.pk))
                continue
            payload: dict[str, Any] = {"applicant_id": applicant_id, "type": kycaid_type}
            ordered = sorted(document.files.all(), key=lambda f: (_SIDE_ORDER.get(f.side, 3), f.created_at))
            for slot, row in zip(slots_for(ordered), ordered, strict=False):
                if not files.get(str(row.pk)):
                    with self.backend.creating(verification, f"file {row.pk}", "POST /files") as call:
                        files[str(row.pk)] = self.upload(row)
                        call.remember(provider_data={"kycaid_files": dict(files)})
                payload[slot] = files[str(row.pk)]
            if len(ordered) > len(SLOTS):
                logger.warning("kycaid: document %s has more files than KYCAID has sides; extras not sent", document.pk)
            payload.update(document_fields(document))
            kind = f"document {document.pk}"
            document_id = self.find_lost_document(applicant_id, payload, documents, kind)
            if document_id:
                documents[str(document.pk)] = document_id
                self.backend.remember(verification, provider_data={"kycaid_documents": dict(documents)}, settles=kind)
            else:
                with self.backend.creating(verification, kind, "POST /documents") as call:
                    document_id = self.client.create_document(payload)
                    documents[str(document.pk)] = document_id
                    call.remember(provider_data={"kycaid_documents": dict(documents)})
            self.backend.remember_document(document, document_id)
        if skipped:
            self.backend.remember(verification, provider_data={"kycaid_skipped_documents": skipped})

    def find_lost_document(
        self, applicant_id: str, payload: Mapping[str, Any], known: Mapping[str, str], kind: str
    ) -> str:
        """The KYCAID document an earlier ``POST /documents`` for the same document created although its
        answer was lost, or ``""``. The applicant lists its documents and each document shows its type and
        file ids; our file ids were uploaded for this document alone, so a document of that type holding
        exactly them is the one."""
        if not self.backend.unanswered(self.verification, kind):
            return ""
        applicant = self.client.get_applicant(applicant_id)
        ours = set(known.values())
        slots = {slot: payload[slot] for slot in SLOTS if payload.get(slot)}
        for listed in applicant.get("documents") or []:
            document_id = text(listed.get("document_id")) if isinstance(listed, Mapping) else ""
            if not document_id or document_id in ours:
                continue
            found = self.client.get_document(document_id)
            if text(found.get("type")) == payload.get("type") and all(
                text(found.get(slot)) == file_id for slot, file_id in slots.items()
            ):
                return document_id
        return ""

    def upload(self, row: DocumentFile) -> str:
        """One file, decrypted; the file name sent is the side (``front.png``), never the user's."""
        extension = {"image/png": ".png", "image/jpeg": ".jpg", "application/pdf": ".pdf"}.get(row.content_type, "")
        with row.file.open("rb") as handle:
            content = handle.read()
        return self.client.upload_file(f"{row.side}{extension}", content, row.content_type)

    # --- form mode -----------------------------------------------------------------------------------
    def form(self) -> Submission:
        verification = self.verification
        applicant = verification.applicant
        named = bool(applicant.first_name and applicant.last_name)
        if not verification.provider_applicant_id and (named or previous_applicant(verification)):
            # pre-fill the form; without names the form creates the applicant from external_applicant_id
            self.applicant()
        form = verification.provider_data.get("kycaid_form") or {}
        if verification.provider_verification_id and form.get("form_url"):
            token = ClientToken(token=text(form.get("form_token")), link=text(form.get("form_url")))
        else:
            token = self.form_url()
        return Submission(
            state=ProviderState(status=VerificationStatus.AWAITING_USER, provider_status="unused"),
            provider_applicant_id=verification.provider_applicant_id,
            provider_verification_id=verification.provider_verification_id,
            client=token,
        )

    def form_url(self) -> ClientToken:
        """A one-time form URL. KYCAID's reference spells the id it returns ``verificaiton_id``: both spellings
        are read. Each call makes a new (unused, not yet billed) verification at KYCAID; one whose answer is
        lost is reported as a possible duplicate."""
        verification = self.verification
        form_id = self.backend.option("FORM_ID")
        payload: dict[str, Any] = {"external_applicant_id": verification.applicant.reference}
        if verification.provider_applicant_id:
            payload["applicant_id"] = verification.provider_applicant_id
        if self.backend.option("REDIRECT_URL"):
            payload["redirect_url"] = self.backend.option("REDIRECT_URL")
        with self.backend.creating(verification, "form verification", f"POST /forms/{form_id}/urls") as call:
            answer = self.client.create_form_url(form_id, payload)
            form_url = text(answer.get("form_url"))
            verification_id = text(answer.get("verification_id") or answer.get("verificaiton_id"))
            if not form_url or not verification_id:
                raise PermanentProviderError(
                    "KYCAID answered without form_url or verification_id", provider=self.backend.provider
                )
            attempts = answer.get("verification_attempts_left")
            call.remember(
                provider_verification_id=verification_id,
                provider_data={
                    "kycaid_form": {"form_url": form_url, "form_token": text(answer.get("form_token"))},
                    "kycaid_attempts_left": attempts if isinstance(attempts, int) else None,
                },
            )
        # one-time link without a documented lifetime: no expiry is reported
        return ClientToken(token=text(answer.get("form_token")), link=form_url)


def person_fields(verification: Verification) -> dict[str, Any]:
    """``POST /applicants`` fields from our Applicant; blanks are left out rather than sent empty."""
    applicant = verification.applicant
    fields: dict[str, Any] = {
        "type": "PERSON",
        "first_name": applicant.first_name,
        "middle_name": applicant.middle_name,
        "last_name": applicant.last_name,
        "dob": applicant.date_of_birth.isoformat() if applicant.date_of_birth else "",
        "residence_country": applicant.country.upper(),
        "nationality": applicant.nationality.upper(),
        "email": applicant.email,
        "phone": applicant.phone,
        "external_applicant_id": applicant.reference,
    }
    return {key: value for key, value in fields.items() if value}


def document_fields(document: Document) -> dict[str, Any]:
    """A document's number and dates as KYCAID names them; blanks left out."""
    fields = {
        "document_number": document.number,
        "issue_date": document.issue_date.isoformat() if document.issue_date else "",
        "expiry_date": document.expiry_date.isoformat() if document.expiry_date else "",
    }
    return {key: value for key, value in fields.items() if value}


def slots_for(files: Sequence[DocumentFile]) -> list[str]:
    """Front (or the single page) to ``front_side_id``, back to ``back_side_id``, the rest to the others."""
    slots: list[str] = []
    free = list(SLOTS)
    for row in files:
        wanted = "back_side_id" if row.side == "back" else "front_side_id"
        slot = wanted if wanted in free else next((s for s in free if s.startswith("other")), "")
        if not slot:
            break
        free.remove(slot)
        slots.append(slot)
    return slots


def previous_applicant(verification: Verification) -> Verification | None:
    """An earlier verification of the same person through this alias that already has a KYCAID applicant."""
    from django_kyc.models import Verification as VerificationModel

    return (
        VerificationModel.objects.filter(applicant_id=verification.applicant_id, backend=verification.backend)
        .exclude(pk=verification.pk)
        .exclude(provider_applicant_id="")
        .order_by("-created_at")
        .first()
    )


def documents_to_send(verification: Verification) -> list[Document]:
    from django_kyc.models import Document as DocumentModel

    return list(
        DocumentModel.objects.filter(applicant_id=verification.applicant_id)
        .exclude(status__in=_NOT_SENT)
        .prefetch_related("files")
        .order_by("created_at")
    )
