"""What the case page shows about one verification under review, gathered in a fixed number of queries.

Kept apart from the views (:mod:`django_kyc.admin.case`) so the rules of what a reviewer sees (personal data
masked without ``view_applicant_pii``, documents only for those who may open them, what counts as a mismatch)
can be read in one place. Nothing here writes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Prefetch
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from django_kyc import pii
from django_kyc.admin.base import HIDDEN
from django_kyc.admin.evidence import is_lists_evidence, lists_evidence
from django_kyc.models import AmlHit, Applicant, AuditEvent, Document, ProposalStatus, ReviewDecision, Verification
from django_kyc.models.document import DocumentFile, DocumentSide
from django_kyc.reasons import reason_codes
from django_kyc.services.transitions import CONFIRMED_FIELDS, DOCUMENT_READINGS
from django_kyc.status import AmlHitStatus, DocumentStatus

#: Front before back, whatever order the files were stored in.
SIDE_ORDER: dict[str, int] = {DocumentSide.FRONT: 0, DocumentSide.BACK: 1, DocumentSide.SINGLE: 2}
#: The timeline shows this many of the newest rows; the audit log has them all.
TIMELINE_LIMIT = 200

#: The person's fields set beside what the provider read, in reading order.
PERSON_FIELDS: tuple[tuple[str, Any], ...] = (
    ("first_name", _("First name")),
    ("middle_name", _("Middle name")),
    ("last_name", _("Last name")),
    ("date_of_birth", _("Date of birth")),
    ("nationality", _("Nationality")),
    ("country", _("Country of residence")),
)
DOCUMENT_FIELDS: tuple[tuple[str, Any], ...] = (
    ("number", _("Document number")),
    ("issuing_country", _("Issuing country")),
    ("expiry_date", _("Expiry date")),
)


@dataclass(frozen=True)
class Comparison:
    """One field: what the person gave, what the provider read, and whether they agree."""

    label: str
    ours: str
    theirs: str
    #: "match", "mismatch" or "unread" (the provider did not report this field)
    state: str


@dataclass(frozen=True)
class FileView:
    pk: Any
    side: str
    content_type: str
    url: str
    page_url: str  # the first page's PNG for a PDF ("" otherwise); the viewer swaps the page number

    @property
    def is_pdf(self) -> bool:
        return self.content_type == "application/pdf"

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


@dataclass(frozen=True)
class DocumentView:
    document: Document
    number: str
    files: list[FileView] = field(default_factory=list)


def _text(value: Any) -> str:
    if value in (None, ""):
        return ""
    return value.isoformat() if isinstance(value, date) else str(value)


def _same(ours: str, theirs: str) -> bool:
    """Names read from a chip come upper-case (MRZ style): case and surrounding space do not make a mismatch."""
    return " ".join(ours.split()).casefold() == " ".join(theirs.split()).casefold()


def _shown(text: str) -> str:
    """A date (ISO 8601, as stored and as providers report it) in the active language's format; the rest as
    it is. Compared before, so a format never makes a mismatch."""
    try:
        day = date.fromisoformat(text) if len(text) == len("1990-12-10") else None
    except ValueError:
        day = None
    return date_format(day, gettext("Y-m-d")) if day else text


def _compare(label: Any, ours: str, theirs: str, *, personal: bool, show_pii: bool) -> Comparison:
    state = "unread" if not theirs else ("match" if _same(ours, theirs) else "mismatch")
    if personal and not show_pii:
        ours, theirs = (HIDDEN if ours else ""), (HIDDEN if theirs else "")
    return Comparison(str(label), _shown(ours), _shown(theirs), state)


def person_comparison(applicant: Applicant, verification: Verification, *, show_pii: bool) -> list[Comparison]:
    """The applicant's fields beside what the provider read: the differences the transition service kept
    (``provider_data["applicant_mismatches"]``) and the fields it found as given (``confirmed_fields``)."""
    data = verification.provider_data or {}
    confirmed = set(data.get(CONFIRMED_FIELDS) or ())
    mismatches = data.get("applicant_mismatches") or {}
    personal = pii.personal_fields(Applicant)
    rows = []
    for name, label in PERSON_FIELDS:
        ours = _text(getattr(applicant, name))
        theirs = _text(mismatches[name].get("provider")) if name in mismatches else (ours if name in confirmed else "")
        if not ours and not theirs:
            continue
        rows.append(_compare(label, ours, theirs, personal=name in personal, show_pii=show_pii))
    return rows


def document_comparison(
    documents: list[Document], verification: Verification, *, show_pii: bool
) -> list[tuple[Document, list[Comparison]]]:
    """Each document the provider read (``provider_data["document_readings"]``), field by field."""
    readings = (verification.provider_data or {}).get(DOCUMENT_READINGS) or {}
    personal = pii.personal_fields(Document)
    out = []
    for document in documents:
        reading = readings.get(str(document.pk))
        if not reading:
            continue
        confirmed, mismatches = set(reading.get("confirmed") or ()), reading.get("mismatches") or {}
        rows = []
        for name, label in DOCUMENT_FIELDS:
            ours = _text(getattr(document, name))
            theirs = _text(mismatches.get(name)) if name in mismatches else (ours if name in confirmed else "")
            if ours or theirs:
                rows.append(_compare(label, ours, theirs, personal=name in personal, show_pii=show_pii))
        out.append((document, rows))
    return out


def documents(applicant: Applicant, *, with_files: bool) -> list[Document]:
    queryset = applicant.documents.exclude(status=DocumentStatus.PURGED).order_by("-created_at")
    if with_files:
        queryset = queryset.prefetch_related("files")
    return list(queryset)


def side_caption(row: DocumentFile) -> str:
    """A viewer's caption: "Front" or "Back" beside its pair; nothing for a document kept as one file, which
    may be a PDF of many pages (its pager counts them), where "Single page" would mislead."""
    return "" if row.side == DocumentSide.SINGLE else str(row.get_side_display())


def document_views(docs: list[Document], *, show_pii: bool, with_files: bool) -> list[DocumentView]:
    views = []
    for document in docs:
        files = []
        if with_files:
            for row in sorted(document.files.all(), key=lambda f: SIDE_ORDER.get(f.side, len(SIDE_ORDER))):
                files.append(
                    FileView(
                        pk=row.pk,
                        side=side_caption(row),
                        content_type=row.content_type,
                        url=reverse("admin:django_kyc_document_file", args=[row.pk]),
                        page_url=(
                            reverse("admin:django_kyc_document_pdf_page", args=[row.pk, 1])
                            if row.content_type == "application/pdf"
                            else ""
                        ),
                    )
                )
        number = (document.number if show_pii else HIDDEN) if document.number else ""
        views.append(DocumentView(document=document, number=number, files=files))
    return views


def aml_hits(applicant: Applicant) -> list[AmlHit]:
    """The applicant's hits, open ones first, each with its open proposal (``open_proposals``, at most one)."""
    proposals = ReviewDecision.objects.filter(status=ProposalStatus.PROPOSED).select_related("proposed_by")
    hits: list[AmlHit] = list(
        AmlHit.objects.filter(aml_check__applicant=applicant)
        .select_related("aml_check", "resolved_by")
        .prefetch_related(Prefetch("review_decisions", queryset=proposals, to_attr="open_proposals"))
        .order_by("status", "-score", "caption")
    )
    for hit in hits:
        hit.evidence = evidence(hit)  # type: ignore[attr-defined]
    return hits


def evidence(hit: AmlHit) -> list[tuple[str, str]]:
    """The listed entity's details as ``(name, text)`` rows: lists joined, nested values as compact JSON."""
    rows = [(str(_("Entity")), hit.entity_id)]
    if hit.datasets:
        rows.append((str(_("Lists")), ", ".join(str(item) for item in hit.datasets)))
    if is_lists_evidence(hit.details or {}):
        return rows + lists_evidence(hit.details)
    for key, value in (hit.details or {}).items():
        if isinstance(value, list) and all(not isinstance(item, (dict, list)) for item in value):
            text = ", ".join(str(item) for item in value)
        elif isinstance(value, (dict, list)):
            text = json.dumps(value, ensure_ascii=False, sort_keys=True)
        else:
            text = str(value)
        rows.append((str(key), text))
    return rows


def open_hit_count(hits: list[AmlHit]) -> int:
    return sum(1 for hit in hits if hit.status == AmlHitStatus.OPEN)


def open_proposal(verification: Verification) -> ReviewDecision | None:
    return (
        ReviewDecision.objects.filter(verification=verification, status=ProposalStatus.PROPOSED)
        .select_related("proposed_by")
        .first()
    )


def earlier_verifications(verification: Verification) -> list[Verification]:
    return list(
        Verification.objects.filter(applicant_id=verification.applicant_id)
        .exclude(pk=verification.pk)
        .order_by("-created_at")
    )


def timeline(applicant: Applicant) -> list[AuditEvent]:
    return list(applicant.audit_events.order_by("-created_at", "-id")[:TIMELINE_LIMIT])


def timeline_filters(events: list[AuditEvent]) -> tuple[list[tuple[str, str]], list[str]]:
    """The kinds (``(action, label)``) and actors present in the rows, for the timeline's filters."""
    kinds = {event.action: str(event.get_action_display()) for event in events}
    actors = sorted({event_actor(event) for event in events})
    return sorted(kinds.items(), key=lambda item: item[1]), actors


def event_actor(event: AuditEvent) -> str:
    return event.actor_label or str(event.get_actor_type_display())


def reason_labels(codes: list[str]) -> list[tuple[str, str]]:
    """Reasons as ``(code, catalogue label)``; a provider's own code (not in the catalogue) keeps only itself."""
    catalogue = reason_codes()
    return [(str(code), str(catalogue.get(str(code), ""))) for code in codes or []]
