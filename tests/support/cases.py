"""A case as a reviewer meets it on the admin's case page: a verification in review whose provider read
something else than the applicant gave, an identity card with both sides stored, and an open PEP hit; and a
reviewer with the permissions the workbench needs. Shared by the page checks of tests/test_i18n.py and the
browser tests, so both look at the same page."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import Permission, User
from django.core.files.base import ContentFile
from django.utils import timezone

from django_kyc.models import AmlCheck, AmlHit, Applicant, Document, DocumentFile, Verification
from django_kyc.services import transitions
from django_kyc.services.audit import Change
from django_kyc.status import AmlStatus, Source, VerificationStatus
from example_project.onboarding.images import identity_card_png

#: What a reviewer needs to read, decide and resolve on the case page, the queue and the dashboard.
REVIEWER_PERMISSIONS = (
    "view_applicant",
    "view_applicant_pii",
    "review_applicant",
    "view_verification",
    "view_reviewqueueitem",
    "view_document",
    "view_auditevent",
    "view_amlhit",
    "view_amlqueueitem",
    "view_reviewdecision",
    "view_webhookrejection",
)


def reviewer(username: str, *extra: str) -> User:
    """A staff user with :data:`REVIEWER_PERMISSIONS` and ``extra`` ones (e.g. ``approve_high_risk``), fetched
    again so no permission cache is stale."""
    user = User.objects.create_user(username=username, password="pw", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="django_kyc", codename__in=[*REVIEWER_PERMISSIONS, *extra])
    )
    return User.objects.get(pk=user.pk)


def stored_file(document: Document, content: bytes, content_type: str, side: str = "front") -> DocumentFile:
    """A document file stored (encrypted) as an upload would be, for tests that read it back."""
    row = DocumentFile(
        document=document,
        side=side,
        sha256=hashlib.sha256(content).hexdigest(),
        content_type=content_type,
        size=len(content),
    )
    row.file.save("file.bin", ContentFile(content), save=False)
    row.save()
    return row


def case_in_review(applicant: Applicant) -> Verification:
    """``applicant``'s verification, moved to review through the transition service, with a mismatch, an
    identity card (front and back) and an open PEP hit."""
    card = Document.objects.create(
        applicant=applicant,
        type="id_card",
        number="ID998877",
        issuing_country="GB",
        expiry_date=timezone.now().date() + timedelta(days=900),
    )
    stored_file(card, identity_card_png("front"), "image/png", "front")
    stored_file(card, identity_card_png("back"), "image/png", "back")
    verification = Verification.objects.create(applicant=applicant, backend="sandbox")
    for status in (VerificationStatus.PROCESSING, VerificationStatus.REVIEW):
        transitions.transition_verification(verification.pk, status, Change.provider("sandbox", Source.WEBHOOK))
    provider_data: dict[str, Any] = {
        "confirmed_fields": ["first_name", "last_name", "nationality"],
        "applicant_mismatches": {"date_of_birth": {"applicant": "1990-12-10", "provider": "1990-10-12"}},
        "document_readings": {str(card.pk): {"confirmed": ["issuing_country"], "mismatches": {"number": "ID998878"}}},
    }
    Verification.objects.filter(pk=verification.pk).update(
        provider_data=provider_data, reasons=["DATA_MISMATCH"], provider_status="needs_review"
    )
    check = AmlCheck.objects.create(applicant=applicant, backend="sandbox", status=AmlStatus.POTENTIAL_MATCH)
    AmlHit.objects.create(
        aml_check=check,
        entity_id="Q-42",
        caption="Ada Lovelace-Byron",
        score=0.74,
        topics=["role.pep"],
        datasets=["everypolitician"],
        details={"birthDate": ["1815-12-10"], "position": "Countess"},
    )
    verification.refresh_from_db()
    return verification
