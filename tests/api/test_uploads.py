"""Document uploads: the type comes from the content, the name from us, and every refusal is a JSON 400."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.storage import InMemoryStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from PIL import Image
from pypdf import PdfWriter
from rest_framework.test import APIClient

from django_kyc.models import Applicant, AuditEvent, Document, DocumentFile
from django_kyc.storage import PrivateFileSystemStorage, document_storage
from tests.support.files import PDF_BYTES, make_pdf, make_png


def make_image(width: int, height: int, kind: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, kind)
    return out.getvalue()


#: A real JPEG: uploads read its frame header for the dimensions.
JPEG_BYTES = make_image(4, 4, "JPEG")
STORAGE_ROOT = Path(str(settings.DJANGO_KYC["DOCUMENT_STORAGE_LOCATION"])).resolve()


def upload(content: bytes, name: str = "my-passport-jane-doe.png", content_type: str = "image/png") -> Any:
    return SimpleUploadedFile(name, content, content_type=content_type)


def stored_files() -> set[Path]:
    return {path for path in STORAGE_ROOT.rglob("*") if path.is_file()}


@pytest.fixture
def applicant(user: User, make_applicant: Callable[..., Applicant]) -> Applicant:
    return make_applicant(user=user, with_document=False)


@pytest.fixture
def post(user: User, client_for: Callable[[User | None], APIClient], applicant: Applicant) -> Callable[..., Any]:
    api = client_for(user)

    def send(data: dict[str, Any], **kwargs: Any) -> Any:
        return api.post(f"/kyc/api/applicants/{applicant.pk}/documents/", data, **kwargs)

    return send


@pytest.mark.django_db
@override_settings(MEDIA_ROOT="/nonexistent-media-root")
@pytest.mark.parametrize(
    ("content", "client_name", "client_type", "detected", "extension"),
    [
        (make_png(), "passport photo.png", "image/png", "image/png", ".png"),
        (JPEG_BYTES, "IMG_0001.JPG", "image/jpeg", "image/jpeg", ".jpg"),
        (make_image(4, 4, "WEBP"), "selfie.webp", "image/webp", "image/webp", ".webp"),
        (PDF_BYTES, "statement.pdf", "application/pdf", "application/pdf", ".pdf"),
        # the client's name and type are never trusted: this is a PDF
        (PDF_BYTES, "scan.jpg", "image/jpeg", "application/pdf", ".pdf"),
    ],
    ids=["png", "jpeg", "webp", "pdf", "pdf-named-jpg"],
)
def test_good_upload_is_stored_privately_under_a_random_name(
    post: Callable[..., Any],
    applicant: Applicant,
    user: User,
    content: bytes,
    client_name: str,
    client_type: str,
    detected: str,
    extension: str,
) -> None:
    response = post(
        {"type": "passport", "number": "X1", "file": upload(content, client_name, client_type)}, format="multipart"
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["status"] == "uploaded"
    assert "file" not in data
    [described] = data["files"]
    assert described["content_type"] == detected
    assert described["sha256"] == hashlib.sha256(content).hexdigest()
    assert described["size"] == len(content)
    assert described["side"] == "single"

    row = DocumentFile.objects.get(pk=described["id"])
    assert row.content_type == detected
    path = (STORAGE_ROOT / row.file.name).resolve()
    assert path.is_relative_to(STORAGE_ROOT)
    at_rest = path.read_bytes()
    assert content not in at_rest  # encrypted at rest ...
    with row.file.open("rb") as handle:  # ... and the plaintext through the storage
        assert handle.read() == content
    assert path.suffix == extension
    stem = Path(client_name).stem.lower()
    assert stem not in row.file.name.lower()
    assert "passport" not in row.file.name.lower()
    assert AuditEvent.objects.filter(object_id=data["id"], action="uploaded", actor=user, applicant=applicant).exists()


@pytest.mark.django_db
def test_two_sides_are_stored_as_front_and_back(post: Callable[..., Any]) -> None:
    response = post(
        {"type": "id_card", "file": upload(make_png()), "back_file": upload(PDF_BYTES, "back.png")},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    sides = {f["side"]: f["content_type"] for f in response.json()["files"]}
    assert sides == {"front": "image/png", "back": "application/pdf"}


@pytest.mark.django_db
def test_the_same_upload_twice_gets_two_different_names(post: Callable[..., Any]) -> None:
    for _ in range(2):
        assert post({"type": "passport", "file": upload(make_png())}, format="multipart").status_code == 201
    names = list(DocumentFile.objects.values_list("file", flat=True))
    assert len(set(names)) == 2


HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("build", "field", "message"),
    [
        (lambda: {"type": "passport", "file": upload(b"")}, "file", "empty"),
        (lambda: {"type": "passport", "file": upload(HTML)}, "file", "Unsupported file content"),
        (
            lambda: {"type": "passport", "file": upload(b"<script>alert(1)</script>")},
            "file",
            "Unsupported file content",
        ),
        (
            lambda: {"type": "passport", "file": upload(b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>')},
            "file",
            "Unsupported file content",
        ),
        (
            lambda: {"type": "passport", "file": upload(b"GIF89a" + b"\x00" * 32, "a.gif", "image/gif")},
            "file",
            "allowed",
        ),
        (lambda: {"type": "passport", "file": upload(b"MZ\x90\x00" + b"\x00" * 64, "a.png")}, "file", "allowed"),
        (
            lambda: {"type": "passport", "file": upload(make_png()), "back_file": upload(HTML, "b.png")},
            "back_file",
            "Unsupported",
        ),
        (
            lambda: {"type": "selfie", "file": upload(make_png()), "back_file": upload(make_png())},
            "back_file",
            "no back",
        ),
        (
            lambda: {
                "type": "passport",
                "file": upload(make_png()),
                "issue_date": "2024-05-01",
                "expiry_date": "2024-04-30",
            },
            "expiry_date",
            "after the issue date",
        ),
        (
            lambda: {
                "type": "passport",
                "file": upload(make_png()),
                "issue_date": "2024-05-01",
                "expiry_date": "2024-05-01",
            },
            "expiry_date",
            "after the issue date",
        ),
        (
            lambda: {"type": "passport", "file": upload(make_png()), "expiry_date": "31/12/2030"},
            "expiry_date",
            "format",
        ),
        (lambda: {"type": "passport", "file": upload(make_png()), "issuing_country": "G1"}, "issuing_country", "ISO"),
        (lambda: {"type": "spaceship", "file": upload(make_png())}, "type", "valid choice"),
        (lambda: {"type": "passport"}, "file", "No file"),
        (lambda: {"type": "passport", "file": "not a file"}, "file", "not a file"),
    ],
    ids=[
        "empty",
        "html-as-png",
        "script-as-png",
        "svg-as-png",
        "gif",
        "exe-as-png",
        "html-back-side",
        "selfie-back",
        "expiry-before-issue",
        "expiry-equals-issue",
        "bad-date",
        "bad-country",
        "bad-type",
        "missing-file",
        "file-is-text",
    ],
)
def test_bad_uploads_are_field_errors(
    post: Callable[..., Any], build: Callable[[], dict[str, Any]], field: str, message: str
) -> None:
    before = stored_files()
    response = post(build(), format="multipart")
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    errors = response.json()
    assert field in errors, errors
    assert any(message.lower() in text.lower() for text in errors[field]), errors
    assert not Document.objects.exists()
    assert stored_files() == before


@pytest.mark.django_db
def test_oversized_upload_is_refused(post: Callable[..., Any]) -> None:
    content = make_png(width=40, height=40)
    with override_settings(DJANGO_KYC={**settings.DJANGO_KYC, "MAX_UPLOAD_BYTES": len(content) - 1}):
        response = post({"type": "passport", "file": upload(content)}, format="multipart")
        assert response.status_code == 400
        assert "larger than" in response.json()["file"][0]
        exactly = {"type": "passport", "file": upload(content[: len(content) - 1])}
        # at the limit it is judged by content (a truncated PNG still starts like one)
        assert post(exactly, format="multipart").status_code == 201
    assert Document.objects.count() == 1


@pytest.mark.django_db
def test_allowed_types_come_from_settings(post: Callable[..., Any]) -> None:
    with override_settings(DJANGO_KYC={**settings.DJANGO_KYC, "ALLOWED_UPLOAD_TYPES": ["image/png"]}):
        response = post({"type": "passport", "file": upload(PDF_BYTES, "a.pdf")}, format="multipart")
    assert response.status_code == 400
    assert "image/png" in response.json()["file"][0]


@pytest.mark.django_db
def test_json_body_is_a_415_json_error(post: Callable[..., Any]) -> None:
    response = post({"type": "passport"}, format="json")
    assert response.status_code == 415
    assert "detail" in response.json()


# --- what the content declares: image dimensions and PDF pages -----------------------------------------------

#: A PNG whose header declares 50000 x 50000 pixels (7.5 GB decoded) and whose pixel data is a few bytes:
#: only a check that reads the header, and nothing more, can judge it.
BOMB_PNG = make_png(50_000, 50_000, raw=b"\x00" * 16)


def jpeg_declaring(width: int, height: int) -> bytes:
    """A real JPEG with the dimensions in its frame header (SOF0) rewritten."""
    content = bytearray(JPEG_BYTES)
    sof = content.index(b"\xff\xc0")
    content[sof + 5 : sof + 9] = height.to_bytes(2, "big") + width.to_bytes(2, "big")
    return bytes(content)


def password_protected_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.encrypt("a-password", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def refused(post: Callable[..., Any], content: bytes, field: str = "file") -> str:
    """The message of a refused upload, after checking that nothing was kept."""
    before = stored_files()
    data = {"type": "passport", "file": upload(make_png())}
    data[field] = upload(content)
    response = post(data, format="multipart")
    assert response.status_code == 400, response.content
    assert not Document.objects.exists()
    assert stored_files() == before
    [message] = response.json()[field]
    return str(message)


@pytest.mark.django_db
def test_an_image_declaring_50000_pixels_a_side_is_refused_from_its_header(post: Callable[..., Any]) -> None:
    message = refused(post, BOMB_PNG)
    # the limit, not "cannot be read": the dimensions came from the header, nothing was decoded
    assert message == "The image is 50000x50000 pixels; at most 12000 pixels on a side are accepted."
    assert "at most 12000 pixels on a side" in refused(post, BOMB_PNG, field="back_file")


@pytest.mark.django_db
def test_the_side_limit_applies_to_jpeg_frames_too(post: Callable[..., Any]) -> None:
    assert "40000x300 pixels" in refused(post, jpeg_declaring(40_000, 300))


@pytest.mark.django_db
def test_image_limits_come_from_settings(post: Callable[..., Any]) -> None:
    limits = {"MAX_IMAGE_PIXELS": 100, "MAX_IMAGE_DIMENSION": 20}
    with override_settings(DJANGO_KYC={**settings.DJANGO_KYC, **limits}):
        assert refused(post, make_png(11, 10)) == "The image is 11x10 = 110 pixels; at most 100 are accepted."
        assert "at most 20 pixels on a side" in refused(post, make_png(21, 1))
        assert post({"type": "passport", "file": upload(make_png(10, 10))}, format="multipart").status_code == 201
        assert post({"type": "passport", "file": upload(make_png(20, 5))}, format="multipart").status_code == 201


@pytest.mark.django_db
def test_an_image_type_whose_size_cannot_be_checked_is_refused(post: Callable[..., Any]) -> None:
    gif = b"GIF89a" + (4).to_bytes(2, "little") * 2 + b"\x00" * 32
    with override_settings(DJANGO_KYC={**settings.DJANGO_KYC, "ALLOWED_UPLOAD_TYPES": ["image/png", "image/gif"]}):
        assert refused(post, gif) == "The size of image/gif images cannot be checked, so they are not accepted."


@pytest.mark.django_db
def test_none_turns_a_limit_off(post: Callable[..., Any]) -> None:
    unlimited = {"MAX_IMAGE_PIXELS": None, "MAX_IMAGE_DIMENSION": None, "MAX_PDF_PAGES": None}
    with override_settings(DJANGO_KYC={**settings.DJANGO_KYC, **unlimited}):
        assert post({"type": "passport", "file": upload(BOMB_PNG)}, format="multipart").status_code == 201
        assert post({"type": "passport", "file": upload(make_pdf(25))}, format="multipart").status_code == 201


@pytest.mark.django_db
def test_a_pdf_with_too_many_pages_is_refused(post: Callable[..., Any]) -> None:
    assert refused(post, make_pdf(21)) == "The PDF has 21 pages; at most 20 are accepted."
    with override_settings(DJANGO_KYC={**settings.DJANGO_KYC, "MAX_PDF_PAGES": 3}):
        assert refused(post, make_pdf(4)) == "The PDF has 4 pages; at most 3 are accepted."
        assert post({"type": "passport", "file": upload(make_pdf(3))}, format="multipart").status_code == 201


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (make_png()[:20], "The image cannot be read"),  # the signature, then a cut-off header
        (JPEG_BYTES[:40], "The image cannot be read"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 8, "The image cannot be read"),
        (b"%PDF-1.7\n" + b"\x00" * 64, "The PDF cannot be read"),
        (PDF_BYTES[: len(PDF_BYTES) // 2], "The PDF cannot be read"),
        (password_protected_pdf(), "password-protected"),
    ],
    ids=["png-cut", "jpeg-cut", "webp-empty", "pdf-garbage", "pdf-cut", "pdf-password"],
)
def test_damaged_files_are_a_400_that_says_so(post: Callable[..., Any], content: bytes, message: str) -> None:
    assert message in refused(post, content)


# --- storage failures ---------------------------------------------------------------------------------------


class SecondSaveFails(InMemoryStorage):
    """Saves the front side, then fails on the back side: a remote store that went away mid-request."""

    saves = 0

    def _save(self, name: str, content: Any) -> str:
        self.saves += 1
        if self.saves > 1:
            raise ConnectionError("the object store is unreachable")
        return str(super()._save(name, content))

    def everything(self) -> list[str]:
        if not self.exists("documents"):
            return []
        return [name for folder in self.listdir("documents")[0] for name in self.listdir(f"documents/{folder}")[1]]


@pytest.mark.django_db
def test_a_storage_location_that_cannot_be_written_is_a_503_and_keeps_nothing(
    post: Callable[..., Any], tmp_path: Path, document_storage_as: Callable[[Any], Any]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"")
    with override_settings(
        DJANGO_KYC={
            **settings.DJANGO_KYC,
            "DOCUMENT_STORAGE": lambda: PrivateFileSystemStorage(location=str(blocker / "documents")),
        }
    ):
        document_storage_as(document_storage())
    response = post({"type": "passport", "file": upload(make_png())}, format="multipart")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "The document could not be stored; nothing was kept. Try again later."}
    assert not Document.objects.exists()
    assert not DocumentFile.objects.exists()


@pytest.mark.django_db
def test_a_storage_failure_on_the_back_side_removes_the_front_side(
    post: Callable[..., Any], document_storage_as: Callable[[Any], Any]
) -> None:
    inner = SecondSaveFails()
    with override_settings(DJANGO_KYC={**settings.DJANGO_KYC, "DOCUMENT_STORAGE": lambda: inner}):
        document_storage_as(document_storage())
    response = post(
        {"type": "id_card", "file": upload(make_png()), "back_file": upload(make_png(3, 3))}, format="multipart"
    )
    assert response.status_code == 503
    assert not Document.objects.exists()
    assert not AuditEvent.objects.filter(action="uploaded").exists()
    assert inner.saves == 2
    assert inner.everything() == []
