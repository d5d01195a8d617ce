"""Upload validation: size limits and file types detected from the content's magic bytes.

The client's file name and ``Content-Type`` are never trusted; the stored file gets a random name with the
extension of the type we detected.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import filetype
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from rest_framework.exceptions import ValidationError

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


def check_upload(upload: UploadedFile) -> CheckedUpload:
    size = upload.size or 0
    limit = int(kyc_settings.MAX_UPLOAD_BYTES)
    if size == 0:
        raise ValidationError("The file is empty.")
    if size > limit:
        raise ValidationError(f"The file is larger than {filesizeformat(limit)}.")
    upload.seek(0)
    head = upload.read(512)
    kind = filetype.guess(head)
    allowed = list(kyc_settings.ALLOWED_UPLOAD_TYPES)
    if kind is None or kind.mime not in allowed:
        raise ValidationError(
            f"Unsupported file content; allowed types are {', '.join(allowed)} (detected from the content, "
            "not the file name)."
        )
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return CheckedUpload(file=upload, content_type=kind.mime, sha256=digest.hexdigest(), size=size)
