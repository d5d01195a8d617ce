from __future__ import annotations

import logging
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseServerError
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path
from django.utils.translation import gettext

from django_kyc import pdf_pages
from django_kyc.admin.base import ReadOnlyAdmin, ReadOnlyInline, can_view_pii
from django_kyc.crypto import DecryptionError
from django_kyc.exceptions import DocumentIntegrityError
from django_kyc.models import Document, DocumentFile
from django_kyc.services.audit import Change, audit
from django_kyc.status import AuditAction, Source

logger = logging.getLogger("django_kyc.admin")


class DocumentFileInline(ReadOnlyInline):
    model = DocumentFile
    fields = ("side", "content_type", "size", "sha256", "created_at")
    readonly_fields = fields
    show_change_link = False


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    """The document number identifies the person: the base admin shows it only with the PII permission."""

    list_display = ["id", "applicant", "type", "issuing_country", "status", "created_at"]
    list_filter = ["type", "status", "created_at"]
    search_fields = ["applicant__reference", "provider_document_id"]
    list_select_related = ["applicant"]
    inlines = [DocumentFileInline]

    def get_urls(self) -> list[URLPattern]:
        custom = [
            path(
                "file/<uuid:file_id>/",
                self.admin_site.admin_view(self.file_view),
                name="django_kyc_document_file",
            ),
            path(
                "file/<uuid:file_id>/page/<int:number>/",
                self.admin_site.admin_view(self.pdf_page_view),
                name="django_kyc_document_pdf_page",
            ),
        ]
        return custom + super().get_urls()

    def file_view(self, request: HttpRequest, file_id: Any) -> HttpResponseBase:
        """Stream a document file to a reviewer who may view documents AND personal data (an ID scan is the
        most personal data there is); every access is audited.

        The storage decrypts on the way out, authenticating each chunk before it is sent: a file altered at
        rest fails at open (a 500 that says so) or, if only a later chunk was altered, ends the response
        early; it is never shown wrong.
        """
        opened = self._open(request, file_id)
        if isinstance(opened, HttpResponseBase):
            return opened
        row, handle = opened
        self._audit_view(request, row)
        response = FileResponse(handle, content_type=row.content_type)
        # the plaintext's length: FileResponse cannot measure a decrypting stream (nor guess it from a path)
        response["Content-Length"] = str(handle.size)
        response["Content-Disposition"] = f'inline; filename="document-{row.pk}"'
        return _private(response)

    def pdf_page_view(self, request: HttpRequest, file_id: Any, number: int) -> HttpResponseBase:
        """One page of a PDF document file as a PNG (:mod:`django_kyc.pdf_pages`), for the case page's viewer:
        the same permission check and audit as the file itself, never cached. ``X-Page-Count`` tells the
        viewer how many pages there are."""
        opened = self._open(request, file_id)
        if isinstance(opened, HttpResponseBase):
            return opened
        row, handle = opened
        if row.content_type != "application/pdf":
            handle.close()
            raise Http404("This file is not a PDF.")
        with handle:
            data = handle.read()
        try:
            page = pdf_pages.render_page(data, number)
        except pdf_pages.PdfPageError as exc:
            raise Http404(str(exc)) from exc
        self._audit_view(request, row, page=number)
        response = HttpResponse(page.png, content_type="image/png")
        response["X-Page-Count"] = str(page.page_count)
        response["Content-Disposition"] = f'inline; filename="document-{row.pk}-page-{number}.png"'
        return _private(response)

    def _open(self, request: HttpRequest, file_id: Any) -> tuple[DocumentFile, Any] | HttpResponseBase:
        """The file row and its decrypting handle, for a reviewer who may view documents and personal data."""
        if not (request.user.has_perm("django_kyc.view_document") and can_view_pii(request)):
            raise PermissionDenied
        row = get_object_or_404(DocumentFile.objects.select_related("document"), pk=file_id)
        try:
            return row, row.file.open("rb")
        except FileNotFoundError as exc:
            # gone from storage (purged, or lost): a 404, and no audit row claiming someone saw it
            raise Http404("The file is no longer stored.") from exc
        except (DecryptionError, DocumentIntegrityError) as exc:
            # a removed key or an altered file: say so, show nothing, and audit no view that did not happen
            logger.error("Document file %s cannot be decrypted: %s", row.pk, exc)
            return HttpResponseServerError(
                gettext("This file cannot be shown. %(error)s") % {"error": exc}, content_type="text/plain"
            )

    def _audit_view(self, request: HttpRequest, row: DocumentFile, **data: Any) -> None:
        audit(
            Change.by_user(request.user, Source.ADMIN),
            obj=row.document,
            applicant_id=row.document.applicant_id,
            action=AuditAction.FILE_VIEWED,
            data={"file": str(row.pk), **data},
        )


def _private(response: HttpResponseBase) -> HttpResponseBase:
    """A document is never cached, sniffed into something else, or allowed to run anything."""
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    return response
