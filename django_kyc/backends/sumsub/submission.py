"""Submitting one verification to Sumsub, in either flow.

Both flows start with the applicant: ours already, found by our reference (``externalUserId``), or created
for the configured level, its id committed the moment Sumsub answers. Sumsub documents no idempotency key,
but the lookup by ``externalUserId`` finds an applicant whose creation answer was lost, so a retried submission
never makes a second one. Then the WebSDK flow (``MODE = "sdk"``) asks for an access token; the API flow
(``MODE = "api"``) sends each file as an ID document and requests the check (``docs/providers/sumsub.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from django_kyc.backends.base import ClientToken, ProviderState, Submission
from django_kyc.backends.parsing import mapping, text
from django_kyc.backends.sumsub import statuses
from django_kyc.backends.sumsub.countries import alpha3
from django_kyc.backends.sumsub.state import review_state
from django_kyc.exceptions import PermanentProviderError
from django_kyc.status import DocumentStatus, VerificationStatus

if TYPE_CHECKING:
    from django_kyc.backends.sumsub.backend import SumsubBackend
    from django_kyc.models import Applicant, Document, DocumentFile, Verification

#: Documents not worth sending: refused, out of date or erased on our side, or asked for again (Sumsub adds every
#: image it is sent, so the picture it found unusable would only be added a second time).
NOT_SENT = (
    DocumentStatus.PURGED,
    DocumentStatus.REJECTED,
    DocumentStatus.EXPIRED,
    DocumentStatus.RESUBMISSION_REQUESTED,
)
_SIDE_ORDER = {"front": 0, "single": 1, "back": 2}
_SUBTYPES = {"front": "FRONT_SIDE", "back": "BACK_SIDE"}
_EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp", "application/pdf": ".pdf"}


class SumsubSubmission:
    """One attempt at submitting ``verification`` through ``backend`` (its options, client and checkpoints)."""

    def __init__(self, backend: SumsubBackend, verification: Verification) -> None:
        self.backend = backend
        self.verification = verification
        self.client = backend.client

    # --- the applicant -------------------------------------------------------------------------------
    def applicant(self) -> tuple[str, Mapping[str, Any]]:
        """(Sumsub applicant id, the applicant as Sumsub answered, ``{}`` when already held)."""
        verification = self.verification
        if verification.provider_applicant_id:
            return verification.provider_applicant_id, {}
        reference = verification.applicant.reference
        found = self.client.find_applicant(reference)
        if found is not None:
            applicant_id = self.applicant_id(found)
            self.backend.remember(
                verification,
                provider_applicant_id=applicant_id,
                provider_verification_id=applicant_id,
                settles="applicant",
            )
            return applicant_id, found
        with self.backend.creating(verification, "applicant", "POST /resources/applicants") as call:
            created = self.client.create_applicant(str(self.backend.option("LEVEL_NAME")), self.applicant_fields())
            applicant_id = self.applicant_id(created)
            call.remember(provider_applicant_id=applicant_id, provider_verification_id=applicant_id)
        return applicant_id, created

    def applicant_id(self, record: Mapping[str, Any]) -> str:
        applicant_id = text(record.get("id"))
        if not applicant_id:
            raise PermanentProviderError("Sumsub answered without an applicant id", provider=self.backend.provider)
        return applicant_id

    def applicant_fields(self) -> dict[str, Any]:
        """``externalUserId`` (our reference), ``email``, ``phone`` and, with ``SEND_FIXED_INFO``, ``fixedInfo``:
        what the person told us, for Sumsub to compare with the documents. Blanks are left out."""
        person = self.verification.applicant
        fields: dict[str, Any] = {"externalUserId": person.reference, "email": person.email, "phone": person.phone}
        if self.backend.option("SEND_FIXED_INFO"):
            fields["fixedInfo"] = fixed_info(person)
        return {key: value for key, value in fields.items() if value}

    # --- WebSDK flow -------------------------------------------------------------------------------------
    def sdk(self) -> Submission:
        applicant_id, record = self.applicant()
        review = mapping(record.get("review"))
        state = (
            review_state(review, self.backend.map_status)
            if review.get("reviewStatus")
            else ProviderState(status=VerificationStatus.AWAITING_USER, provider_status="init")
        )
        return Submission(
            state=state,
            provider_applicant_id=applicant_id,
            provider_verification_id=applicant_id,
            client=self.access_token(),
        )

    def access_token(self) -> ClientToken:
        """A WebSDK access token for our reference and the level, expiring when Sumsub's ``ttlInSecs`` says
        (counted from before the request: we never promise a token longer than Sumsub honours it)."""
        ttl = int(self.backend.option("TOKEN_TTL"))
        requested = timezone.now()
        answer = self.client.sdk_token(
            self.verification.applicant.reference, str(self.backend.option("LEVEL_NAME")), ttl
        )
        token = text(answer.get("token"))
        if not token:
            raise PermanentProviderError(
                "Sumsub answered the access token call without a token", provider=self.backend.provider
            )
        return ClientToken(token=token, expires_at=requested + timedelta(seconds=ttl))

    # --- API flow ----------------------------------------------------------------------------------------
    def api(self) -> Submission:
        documents = documents_to_send(self.verification.applicant)
        for document in documents:
            self.backend.check_document(document)
        applicant_id, _ = self.applicant()
        for document in documents:
            self.send(applicant_id, document)
        self.request_check(applicant_id)
        return Submission(
            state=ProviderState(status=VerificationStatus.PROCESSING, provider_status="pending"),
            provider_applicant_id=applicant_id,
            provider_verification_id=applicant_id,
        )

    def send(self, applicant_id: str, document: Document) -> None:
        """Each file of ``document`` not sent yet, as one ID document image with its metadata. Each image id is
        kept with the file and the document it belongs to, for the step results to name the document later.

        Sumsub merges the metadata of the same ``idDocType`` and country and adds every image, so a file whose
        answer was lost is sent again and the call reported: Sumsub may then hold a second copy of the image.
        """
        verification = self.verification
        images = dict(verification.provider_data.get("sumsub_images") or {})
        owners = dict(verification.provider_data.get("sumsub_image_documents") or {})
        id_doc_type = self.backend.document_type(document.type) or ""
        rows = sorted(document.files.all(), key=lambda row: (_SIDE_ORDER.get(row.side, 3), row.created_at))
        for row in rows:
            if str(row.pk) in images:
                continue
            metadata = document_metadata(document, id_doc_type)
            if id_doc_type in statuses.TWO_SIDED and row.side in _SUBTYPES:
                metadata["idDocSubType"] = _SUBTYPES[row.side]
            call = f"POST /resources/applicants/{applicant_id}/info/idDoc"
            with self.backend.creating(verification, f"image of document {document.pk}", call) as created:
                _, image_id = self.client.add_id_doc(applicant_id, metadata, file_content(row))
                images[str(row.pk)] = image_id
                owners[image_id] = str(document.pk)
                created.remember(provider_data={"sumsub_images": dict(images), "sumsub_image_documents": dict(owners)})
        first = next((images.get(str(row.pk)) for row in rows if images.get(str(row.pk))), "")
        if first and document.provider_document_id != first:
            self.backend.remember_document(document, first)

    def request_check(self, applicant_id: str) -> None:
        """Ask Sumsub to check the applicant, once. Sumsub refuses the request while a check runs, so a repeat
        after a lost answer is refused: the review status then tells whether the first request arrived (the
        check runs or is done) or Sumsub refused for a reason of its own (still ``init``: documents missing)."""
        verification = self.verification
        if verification.provider_data.get("sumsub_check_requested"):
            return
        try:
            self.client.request_check(applicant_id, str(self.backend.option("CHECK_REASON") or ""))
        except PermanentProviderError as exc:
            if exc.status_code is None or not 400 <= exc.status_code < 500:
                raise
            status = text(self.client.review_status(applicant_id).get("reviewStatus"))
            if status in ("init", "awaitingUser", ""):
                raise  # Sumsub's "not all required documents or data are submitted"
        self.backend.remember(verification, provider_data={"sumsub_check_requested": True})


def fixed_info(person: Applicant) -> dict[str, Any]:
    """``fixedInfo`` in Sumsub's names (countries in ISO alpha-3); blanks left out."""
    dob = person.date_of_birth
    info = {
        "firstName": person.first_name,
        "middleName": person.middle_name,
        "lastName": person.last_name,
        "dob": dob.isoformat() if dob else "",
        "country": alpha3(person.country),
        "nationality": alpha3(person.nationality),
    }
    return {key: value for key, value in info.items() if value}


def document_country(document: Document, id_doc_type: str) -> str:
    """The ``country`` Sumsub requires, in alpha-3: the issuing country; for a document that proves no identity
    (a selfie, a utility bill) and has none, the applicant's country of residence, then nationality."""
    country = alpha3(document.issuing_country)
    if country or id_doc_type in statuses.IDENTITY_DOCUMENTS:
        return country
    person = document.applicant
    return alpha3(person.country) or alpha3(person.nationality)


def document_metadata(document: Document, id_doc_type: str) -> dict[str, Any]:
    """The ``metadata`` part: ``idDocType`` and ``country`` (both mandatory), then what we know of the document."""
    metadata = {
        "idDocType": id_doc_type,
        "country": document_country(document, id_doc_type),
        "number": document.number,
        "issuedDate": document.issue_date.isoformat() if document.issue_date else "",
        "validUntil": document.expiry_date.isoformat() if document.expiry_date else "",
    }
    return {key: value for key, value in metadata.items() if value}


def file_content(row: DocumentFile) -> tuple[str, bytes, str]:
    """One file, decrypted; the file name sent is the side (``front.png``), never the user's."""
    with row.file.open("rb") as handle:
        content = handle.read()
    return f"{row.side}{_EXTENSIONS.get(row.content_type, '')}", content, row.content_type


def documents_to_send(applicant: Applicant) -> list[Document]:
    from django_kyc.models import Document as DocumentModel

    return list(
        DocumentModel.objects.filter(applicant=applicant)
        .exclude(status__in=NOT_SENT)
        .prefetch_related("files")
        .order_by("created_at")
    )
