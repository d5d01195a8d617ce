"""Submitting one verification to Onfido, in each of the three modes.

Every mode starts with the applicant: the one this verification holds, an earlier verification's (the same
person through the same alias), the one a lost ``POST /applicants`` created (found in the applicant list), or a
new one. Then ``workflow`` creates a Studio workflow run (its ``sdk_token`` and link are the hosted flow),
``sdk`` asks for a classic SDK token (the check is created once the person's documents are there, see
:meth:`OnfidoSubmission.check_when_ready`), and ``api`` uploads our documents and creates the check.

Onfido has no idempotency key. Each id is committed the moment Onfido hands it out, and a create call whose
answer was lost is looked up before it is made again: runs and checks carry our verification id as a tag,
documents are sent under a file name made of our file's id, and applicants are matched in the applicant list
(``docs/providers/onfido.md``, "Idempotency").
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from django_kyc.backends.onfido.state import check_state, run_state
from django_kyc.backends.onfido.statuses import DOCUMENT_CONTENT_TYPES
from django_kyc.backends.onfido.tokens import token_expiry
from django_kyc.backends.parsing import iso_datetime, mapping, text
from django_kyc.backends.values import ClientToken, ProviderState, Submission
from django_kyc.exceptions import PermanentProviderError
from django_kyc.status import DocumentStatus, VerificationStatus

if TYPE_CHECKING:
    from django_kyc.backends.onfido.backend import OnfidoBackend
    from django_kyc.backends.onfido.client import OnfidoClient
    from django_kyc.models import Applicant, Document, DocumentFile, Verification

logger = logging.getLogger("django_kyc.onfido")

#: Documents not worth sending: refused, out of date or erased on our side.
NOT_SENT = (DocumentStatus.PURGED, DocumentStatus.REJECTED, DocumentStatus.EXPIRED)
#: How far an applicant's ``created_at`` may precede the lost call that created it (clocks differ).
CLOCK_SKEW = timedelta(minutes=2)
#: How many of the newest applicants are read when a lost ``POST /applicants`` is looked for.
LOOKUP_PAGE_SIZE = 100
#: The details a lost applicant is recognised by (a phone number Onfido may have reformatted is not one).
LOOKUP_FIELDS = ("first_name", "last_name", "email", "dob")


def person_fields(applicant: Applicant) -> dict[str, Any]:
    """``POST /applicants`` fields; blanks are left out rather than sent empty."""
    fields = {
        "first_name": applicant.first_name,
        "last_name": applicant.last_name,
        "email": applicant.email,
        "dob": applicant.date_of_birth.isoformat() if applicant.date_of_birth else "",
        "phone_number": applicant.phone,
    }
    return {key: value for key, value in fields.items() if value}


def run_tag(verification: Verification) -> str:
    """The tag runs and checks of ``verification`` carry, to be found again after a lost answer."""
    return str(verification.pk)


class OnfidoSubmission:
    """One attempt at submitting ``verification`` through ``backend`` (its options, client and checkpoints)."""

    def __init__(self, backend: OnfidoBackend, verification: Verification) -> None:
        self.backend = backend
        self.verification = verification
        self.client = backend.client

    # --- the applicant -------------------------------------------------------------------------------
    def applicant(self) -> str:
        verification = self.verification
        if verification.provider_applicant_id:
            return verification.provider_applicant_id
        previous = previous_applicant_id(verification)
        fields = person_fields(verification.applicant)
        found = previous or self.find_lost_applicant(fields)
        if found:
            self.backend.remember(verification, provider_applicant_id=found, settles="applicant")
            return found
        with self.backend.creating(verification, "applicant", "POST /applicants") as call:
            applicant_id = self.client.created_id(self.client.create_applicant(fields), "applicant")
            call.remember(provider_applicant_id=applicant_id)
        return applicant_id

    def find_lost_applicant(self, fields: Mapping[str, Any]) -> str:
        """The applicant an earlier ``POST /applicants`` of this verification created although its answer was
        lost, or ``""``. Onfido applicants hold no reference of ours, so the newest page of the applicant list
        is searched for one with the details we sent, created after that call was made."""
        lost = self.backend.unanswered(self.verification, "applicant")
        if not lost:
            return ""
        return find_applicant(self.client, fields, min(iso_datetime(e.get("at")) or timezone.now() for e in lost))

    # --- Studio workflow runs ------------------------------------------------------------------------
    def workflow(self) -> Submission:
        verification = self.verification
        applicant_id = self.applicant()
        run: dict[str, Any] | None = None
        if verification.provider_verification_id:
            run = self.client.get_workflow_run(verification.provider_verification_id)
        else:
            run = self.find_lost_run(applicant_id)
            if run is not None:
                self.backend.remember(
                    verification, provider_verification_id=text(run.get("id")), settles="workflow run"
                )
        if run is None:
            with self.backend.creating(verification, "workflow run", "POST /workflow_runs") as call:
                run = self.client.create_workflow_run(self.run_payload(applicant_id))
                call.remember(provider_verification_id=self.client.created_id(run, "workflow run"))
        token = text(run.get("sdk_token"))
        client = self.run_client(run, token) if token else self.backend.sdk_client(applicant_id, run)
        return Submission(
            state=run_state(run),
            provider_applicant_id=applicant_id,
            provider_verification_id=text(run.get("id")),
            client=client,
        )

    def run_payload(self, applicant_id: str) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "workflow_id": self.backend.option("WORKFLOW_ID"),
            "applicant_id": applicant_id,
            "tags": [run_tag(self.verification)],
            "customer_user_id": self.verification.applicant.reference,
        }
        link = {
            "completed_redirect_url": self.backend.option("COMPLETED_REDIRECT_URL"),
            "expired_redirect_url": self.backend.option("EXPIRED_REDIRECT_URL"),
            "language": self.backend.option("LINK_LANGUAGE"),
        }
        ttl = self.backend.option("LINK_TTL")
        if ttl:
            link["expires_at"] = (timezone.now() + timedelta(seconds=ttl)).isoformat()
        link = {key: value for key, value in link.items() if value}
        if link:
            payload["link"] = link
        return payload

    def find_lost_run(self, applicant_id: str) -> dict[str, Any] | None:
        if not self.backend.unanswered(self.verification, "workflow run"):
            return None
        runs = self.client.list_workflow_runs(applicant_id, tags=[run_tag(self.verification)])
        tagged = [run for run in runs if run_tag(self.verification) in (run.get("tags") or [])]
        return tagged[0] if tagged else None

    def run_client(self, run: Mapping[str, Any], token: str) -> ClientToken:
        """The run's SDK token and link; the token's expiry is the one it carries (``exp``)."""
        link = mapping(run.get("link"))
        return ClientToken(
            token=token,
            link=text(link.get("url")),
            expires_at=earliest(token_expiry(token, self.backend.sdk_token_ttl), iso_datetime(link.get("expires_at"))),
        )

    # --- classic SDK token ---------------------------------------------------------------------------
    def sdk(self) -> Submission:
        """The applicant and a token for Onfido's SDK; the check follows once the person has captured their
        documents (the first poll that finds them creates it)."""
        applicant_id = self.applicant()
        state = ProviderState(status=VerificationStatus.AWAITING_USER, provider_status="awaiting_sdk")
        if self.verification.provider_verification_id:
            state = self.backend.fetch_verification(self.verification)
        return Submission(
            state=state,
            provider_applicant_id=applicant_id,
            provider_verification_id=self.verification.provider_verification_id,
            client=self.backend.sdk_client(applicant_id),
        )

    def check_when_ready(self) -> ProviderState:
        """SDK mode before a check exists: the check once the person's documents are at Onfido (created
        here, or found when an earlier attempt's answer was lost); until then, still waiting for them."""
        applicant_id = self.verification.provider_applicant_id
        if not applicant_id:
            raise PermanentProviderError("verification has no Onfido applicant yet", provider=self.backend.provider)
        documents = self.client.list_documents(applicant_id)
        if not documents and not self.backend.unanswered(self.verification, "check"):
            return ProviderState(status=VerificationStatus.AWAITING_USER, provider_status="awaiting_sdk")
        check = self.check(applicant_id, [text(item.get("id")) for item in documents if item.get("id")])
        return check_state(check, [], self.backend.option("CONSIDER"))

    # --- direct (API) flow ---------------------------------------------------------------------------
    def api(self) -> Submission:
        verification = self.verification
        applicant_id = self.applicant()
        if verification.provider_verification_id:
            check = self.client.get_check(verification.provider_verification_id)
        else:
            document_ids = self.documents(applicant_id)
            if not document_ids:
                raise PermanentProviderError(
                    "no document to send to Onfido: upload an identity document first", provider=self.backend.provider
                )
            check = self.check(applicant_id, document_ids)
        return Submission(
            state=check_state(check, [], self.backend.option("CONSIDER")),
            provider_applicant_id=applicant_id,
            provider_verification_id=text(check.get("id")),
        )

    def documents(self, applicant_id: str) -> list[str]:
        """Each file of each document to send, uploaded once (``POST /documents``); Onfido's document ids."""
        verification = self.verification
        sent: dict[str, str] = dict(verification.provider_data.get("onfido_documents") or {})
        for document in documents_to_send(verification):
            onfido_type = self.backend.document_type(document.type)
            if not onfido_type:
                continue
            for row in document.files.all():
                key = str(row.pk)
                if key in sent:
                    continue
                kind = f"document file {row.pk}"
                found = self.find_lost_document(applicant_id, row, kind)
                if found:
                    sent[key] = found
                    self.backend.remember(verification, provider_data={"onfido_documents": dict(sent)}, settles=kind)
                else:
                    with self.backend.creating(verification, kind, "POST /documents") as call:
                        sent[key] = self.upload(applicant_id, onfido_type, row)
                        call.remember(provider_data={"onfido_documents": dict(sent)})
                self.backend.remember_document(document, sent[key])
        return list(sent.values())

    def upload(self, applicant_id: str, onfido_type: str, row: DocumentFile) -> str:
        """One file, decrypted, under a name made of our file's id (never the user's file name)."""
        fields = {"applicant_id": applicant_id, "type": onfido_type}
        if row.side in ("front", "back"):
            fields["side"] = row.side
        with row.file.open("rb") as handle:
            content = handle.read()
        return self.client.upload_document(fields, file_name(row), content, row.content_type)

    def find_lost_document(self, applicant_id: str, row: DocumentFile, kind: str) -> str:
        if not self.backend.unanswered(self.verification, kind):
            return ""
        for listed in self.client.list_documents(applicant_id):
            if text(listed.get("file_name")) == file_name(row):
                return text(listed.get("id"))
        return ""

    def check(self, applicant_id: str, document_ids: list[str]) -> dict[str, Any]:
        """``POST /checks`` once: a check whose answer was lost is found by our tag first."""
        verification = self.verification
        tag = run_tag(verification)
        if self.backend.unanswered(verification, "check"):
            for listed in self.client.list_checks(applicant_id):
                if tag in (listed.get("tags") or []):
                    self.backend.remember(verification, provider_verification_id=text(listed["id"]), settles="check")
                    return listed
        payload: dict[str, Any] = {
            "applicant_id": applicant_id,
            "report_names": list(self.backend.option("REPORT_NAMES")),
            "document_ids": document_ids,
            "tags": [tag],
        }
        with self.backend.creating(verification, "check", "POST /checks") as call:
            check = self.client.create_check(payload)
            call.remember(provider_verification_id=self.client.created_id(check, "check"))
        return check


def find_applicant(client: OnfidoClient, fields: Mapping[str, Any], since: datetime) -> str:
    """The newest applicant with ``fields``' identifying details created after ``since`` (less
    :data:`CLOCK_SKEW`), among the newest page of the applicant list; ``""`` when there is none."""
    for listed in client.list_applicants(per_page=LOOKUP_PAGE_SIZE):
        created = iso_datetime(listed.get("created_at"))
        if created is None or created < since - CLOCK_SKEW:
            continue
        if all(text(listed.get(key)) == text(fields.get(key)) for key in LOOKUP_FIELDS):
            return text(listed.get("id"))
    return ""


def file_name(row: DocumentFile) -> str:
    return f"{row.pk}.{DOCUMENT_CONTENT_TYPES.get(row.content_type, 'bin')}"


def earliest(*moments: datetime | None) -> datetime | None:
    known = [moment for moment in moments if moment is not None]
    return min(known) if known else None


def previous_applicant_id(verification: Verification) -> str:
    """The Onfido applicant of an earlier verification of the same person through this alias, or ``""``."""
    from django_kyc.models import Verification as VerificationModel

    found = (
        VerificationModel.objects.filter(applicant_id=verification.applicant_id, backend=verification.backend)
        .exclude(pk=verification.pk)
        .exclude(provider_applicant_id="")
        .order_by("-created_at")
        .values_list("provider_applicant_id", flat=True)
        .first()
    )
    return found or ""


def documents_to_send(verification: Verification) -> list[Document]:
    from django_kyc.models import Document as DocumentModel

    return list(
        DocumentModel.objects.filter(applicant_id=verification.applicant_id)
        .exclude(status__in=NOT_SENT)
        .prefetch_related("files")
        .order_by("created_at")
    )
