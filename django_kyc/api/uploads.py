"""Upload validation: size limits, file types detected from the content's magic bytes, and what the content
declares (an image's dimensions, a PDF's page count).

The client's file name and ``Content-Type`` are never trusted; the stored file gets a random name with the
extension of the type we detected.

Dimensions come from the image's header (:mod:`django_kyc.api.image_size`), without decoding a pixel, so a
PNG that declares 50000x50000 pixels costs a few bytes to refuse, not gigabytes to find out. Page counts come
from pypdf, which walks the page tree with its own bounds. Both parse bytes from the internet, so any failure
means one thing to the client: the file cannot be read (a 400, never a 500).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import filetype
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError
from rest_framework.exceptions import ValidationError

from django_kyc.api.image_size import READERS, UnreadableImage, declared_size
from django_kyc.conf import kyc_settings

EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
    "image/heic": ".heic",
}


@dataclass(frozen=True)
class CheckedUpload:
    file: UploadedFile
    content_type: str
    sha256: str
    size: int

    @property
    def storage_name(self) -> str:
        return f"upload{EXTENSIONS.get(self.content_type, '')}"


def grouped(number: int) -> str:
    """A large number with the active language's thousands separator (1,000 / 1.000 / 1 000)."""
    return number_format(number, force_grouping=True)


def check_upload(upload: UploadedFile) -> CheckedUpload:
    size = upload.size or 0
    limit = int(kyc_settings.MAX_UPLOAD_BYTES)
    if size == 0:
        raise ValidationError(_("The file is empty."))
    if size > limit:
        raise ValidationError(_("The file is larger than %(limit)s.") % {"limit": filesizeformat(limit)})
    upload.seek(0)
    head = upload.read(512)
    kind = filetype.guess(head)
    allowed = list(kyc_settings.ALLOWED_UPLOAD_TYPES)
    if kind is None or kind.mime not in allowed:
        raise ValidationError(
            _("Unsupported file content; allowed types are %(types)s (detected from the content, not the file name).")
            % {"types": ", ".join(allowed)}
        )
    if kind.mime == "application/pdf":
        check_pdf(upload)
    elif kind.mime.startswith("image/"):
        check_image(upload, kind.mime)
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return CheckedUpload(file=upload, content_type=kind.mime, sha256=digest.hexdigest(), size=size)


def check_image(upload: UploadedFile, content_type: str) -> None:
    """Refuse an image whose declared size exceeds ``MAX_IMAGE_DIMENSION`` or ``MAX_IMAGE_PIXELS``."""
    if content_type not in READERS:  # a type the site allowed that we cannot measure: refused, not waved through
        raise ValidationError(
            _("The size of %(type)s images cannot be checked, so they are not accepted.") % {"type": content_type}
        )
    upload.seek(0)
    try:
        width, height = declared_size(upload.read(), content_type)
    except UnreadableImage as exc:
        raise ValidationError(_("The image cannot be read: it is damaged or incomplete.")) from exc
    finally:
        upload.seek(0)
    side = kyc_settings.MAX_IMAGE_DIMENSION
    if side is not None and max(width, height) > int(side):
        raise ValidationError(
            _("The image is %(width)sx%(height)s pixels; at most %(side)s pixels on a side are accepted.")
            % {"width": width, "height": height, "side": int(side)}
        )
    pixels = kyc_settings.MAX_IMAGE_PIXELS
    if pixels is not None and width * height > int(pixels):
        raise ValidationError(
            _("The image is %(width)sx%(height)s = %(pixels)s pixels; at most %(limit)s are accepted.")
            % {"width": width, "height": height, "pixels": grouped(width * height), "limit": grouped(int(pixels))}
        )


def check_pdf(upload: UploadedFile) -> None:
    """Refuse a PDF that cannot be read, is password-protected, or has more than ``MAX_PDF_PAGES`` pages."""
    upload.seek(0)
    try:
        pages = len(PdfReader(upload).pages)
    except FileNotDecryptedError as exc:
        raise ValidationError(_("The PDF is password-protected; upload it without a password.")) from exc
    except Exception as exc:  # any parser failure on untrusted bytes means the same thing
        raise ValidationError(_("The PDF cannot be read: it is damaged or incomplete.")) from exc
    finally:
        upload.seek(0)
    limit = kyc_settings.MAX_PDF_PAGES
    if limit is not None and pages > int(limit):
        raise ValidationError(
            ngettext(
                "The PDF has %(pages)s pages; at most %(limit)s is accepted.",
                "The PDF has %(pages)s pages; at most %(limit)s are accepted.",
                int(limit),
            )
            % {"pages": pages, "limit": int(limit)}
        )
