"""Submitting one verification to Veriff, in either flow.

Both flows start with the session: the one this verification holds, or a new one created with our ids
(``vendorData`` = our verification id, ``endUserId`` = our applicant id), its id committed the moment Veriff
answers. Veriff documents no idempotency key and no way to look a session up by ``vendorData``, so a
``POST /v1/sessions`` whose answer was lost cannot be found again: the retry creates another and the
submission service reports the call as a possible duplicate (``docs/providers/veriff.md``, "Idempotency").

The hosted flow hands out the session's ``verification.url``. The direct flow (``MODE = "api"``) uploads each
file of our identity documents (and a selfie) as base64 media, then submits the session with ``PATCH``.
"""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from django_kyc.backends.parsing import iso_datetime, text, uuid_text
from django_kyc.backends.values import ClientToken, ProviderState, Submission
from django_kyc.backends.veriff import statuses
from django_kyc.backends.veriff.client import created_id
from django_kyc.exceptions import PermanentProviderError
from django_kyc.status import DocumentStatus, VerificationStatus

if TYPE_CHECKING:
    from django_kyc.backends.veriff.backend import VeriffBackend
    from django_kyc.models import Applicant, Document, DocumentFile, Verification

#: Documents not worth sending: refused, out of date, erased on our side, or asked for again.
NOT_SENT = (
    DocumentStatus.PURGED,
    DocumentStatus.REJECTED,
    DocumentStatus.EXPIRED,
    DocumentStatus.RESUBMISSION_REQUESTED,
)
MEDIA_KEY = "veriff_media"
SUBMITTED_KEY = "veriff_submitted"
URL_KEY = "veriff_url"
CREATED_KEY = "veriff_created_at"


class VeriffSubmission:
    """One attempt at submitting ``verification`` through ``backend`` (its options, client and checkpoints)."""

    def __init__(self, backend: VeriffBackend, verification: Verification) -> None:
        self.backend = backend
        self.verification = verification
        self.client = backend.client

    # --- the session ---------------------------------------------------------------------------------
    def session(self) -> str:
        verification = self.verification
        if verification.provider_verification_id:
            return verification.provider_verification_id
        with self.backend.creating(verification, "session", "POST /v1/sessions") as call:
            session_id, url = created_id(self.client.create_session(self.session_fields()), self.backend.provider)
            call.remember(
                provider_applicant_id=session_id,
                provider_verification_id=session_id,
                provider_data={URL_KEY: url, CREATED_KEY: timezone.now().isoformat()},
            )
        return session_id

    def session_fields(self) -> dict[str, Any]:
        """``verification`` of ``POST /v1/sessions``: our ids, the return URL and, with ``SEND_PERSON``, the
        person's name and date of birth for Veriff to compare with the document. Blanks are left out."""
        person = self.verification.applicant
        fields: dict[str, Any] = {"vendorData": str(self.verification.pk)}
        end_user = uuid_text(person.pk)
        if end_user:
            fields["endUserId"] = end_user
        callback = self.backend.option("CALLBACK_URL")
        if callback:
            fields["callback"] = str(callback)
        if self.backend.option("SEND_PERSON"):
            known = {
                "firstName": person.first_name,
                "lastName": person.last_name,
                "dateOfBirth": person.date_of_birth.isoformat() if person.date_of_birth else "",
            }
            known = {key: value for key, value in known.items() if value}
            if known:
                fields["person"] = known
        return fields

    def client_token(self) -> ClientToken:
        """The session's link; Veriff keeps one link per session, valid until the session expires."""
        data = self.verification.provider_data
        created = iso_datetime(data.get(CREATED_KEY)) or self.verification.created_at
        ttl = int(self.backend.option("SESSION_TTL"))
        return ClientToken(link=text(data.get(URL_KEY)), expires_at=created + timedelta(seconds=ttl))

    # --- hosted flow ---------------------------------------------------------------------------------
    def hosted(self) -> Submission:
        session_id = self.session()
        return Submission(
            state=ProviderState(status=VerificationStatus.AWAITING_USER, provider_status="created"),
            provider_applicant_id=session_id,
            provider_verification_id=session_id,
            client=self.client_token(),
        )

    # --- direct flow ---------------------------------------------------------------------------------
    def api(self) -> Submission:
        files = media_to_send(self.verification.applicant)
        if not any(context != statuses.FACE_CONTEXT for context, _ in files):
            raise PermanentProviderError(
                "Veriff needs an identity document: upload one before starting the verification",
                provider=self.backend.provider,
            )
        session_id = self.session()
        for context, row in files:
            self.upload(session_id, context, row)
        self.submit(session_id)
        return Submission(
            state=ProviderState(status=VerificationStatus.PROCESSING, provider_status="submitted"),
            provider_applicant_id=session_id,
            provider_verification_id=session_id,
        )

    def upload(self, session_id: str, context: str, row: DocumentFile) -> None:
        """One file as base64 media, once. Veriff has no way to list a session's media, so a file whose answer
        was lost is sent again and the call reported as a possible duplicate."""
        verification = self.verification
        sent = dict(verification.provider_data.get(MEDIA_KEY) or {})
        if str(row.pk) in sent:
            return
        with row.file.open("rb") as handle:
            content = base64.b64encode(handle.read()).decode("ascii")
        call = f"POST /v1/sessions/{session_id}/media"
        with self.backend.creating(verification, f"media of file {row.pk}", call) as created:
            answer = self.client.upload_media(session_id, {"context": context, "content": content})
            sent[str(row.pk)] = text(dict(answer.get("image") or {}).get("id")) or context
            created.remember(provider_data={MEDIA_KEY: dict(sent)})
        document = row.document
        if not document.provider_document_id:
            self.backend.remember_document(document, sent[str(row.pk)])

    def submit(self, session_id: str) -> None:
        """``PATCH`` the session to ``submitted``, once. Veriff refuses a second submit, so a refusal after an
        answer we lost means the first arrived."""
        verification = self.verification
        if verification.provider_data.get(SUBMITTED_KEY):
            return
        lost = bool(self.backend.unanswered(verification, "submission"))
        try:
            with self.backend.creating(verification, "submission", f"PATCH /v1/sessions/{session_id}"):
                self.client.submit(session_id)
        except PermanentProviderError as exc:
            if not (lost and exc.status_code in (400, 409)):
                raise
        # a refusal after a lost answer accounts for that answer: the first submit arrived
        self.backend.remember(verification, provider_data={SUBMITTED_KEY: True}, settles="submission")


def media_to_send(applicant: Applicant) -> list[tuple[str, DocumentFile]]:
    """(context, file) of every file Veriff's identity flow takes: identity documents' sides, then a selfie."""
    from django_kyc.models import Document as DocumentModel

    documents: list[Document] = list(
        DocumentModel.objects.filter(applicant=applicant)
        .exclude(status__in=NOT_SENT)
        .prefetch_related("files")
        .order_by("created_at")
    )
    media: list[tuple[str, DocumentFile]] = []
    for document in documents:
        if document.type == "selfie":
            media.extend((statuses.FACE_CONTEXT, row) for row in document.files.all())
        elif document.type in statuses.IDENTITY_DOCUMENTS:
            for row in sorted(document.files.all(), key=lambda r: (r.side != "front", r.created_at)):
                media.append((statuses.SIDE_CONTEXTS.get(row.side, "document-front"), row))
    return media
