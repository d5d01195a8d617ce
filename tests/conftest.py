from __future__ import annotations

import io
import os
import struct
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.core.files.storage import Storage
from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf import PdfWriter
from rest_framework.test import APIClient

from django_kyc.backends import registry
from django_kyc.models import Applicant, Document, DocumentFile

IN_CI = os.environ.get("CI", "").lower() == "true"


def require_service(name: str, available: bool, detail: str = "") -> None:
    """Skip locally when a real service is missing, but fail in CI, where it must be there."""
    if available:
        return
    message = f"{name} is not available{': ' + detail if detail else ''}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: services are required, not optional)")
    pytest.skip(message)


def make_png(width: int = 2, height: int = 2, raw: bytes | None = None) -> bytes:
    """A real, minimal PNG, so content sniffing sees a genuine image.

    ``raw`` replaces the pixel rows: a few bytes with a huge ``width`` and ``height`` make a file whose header
    declares an enormous image that no one could decode (a decompression bomb, for the upload checks).
    """

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    if raw is None:
        raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def make_pdf(pages: int = 1) -> bytes:
    """A real PDF of blank pages (uploads count a PDF's pages, so it must be readable)."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


PDF_BYTES = make_pdf()


@pytest.fixture(autouse=True)
def _fresh_backends() -> Iterator[None]:
    registry.clear_cache()
    yield
    registry.clear_cache()


@pytest.fixture
def document_storage_as() -> Iterator[Callable[[Storage], Storage]]:
    """Put another storage under ``DocumentFile.file`` for one test, as a site's ``DOCUMENT_STORAGE`` would be
    (Django calls a field's storage callable once, when the model is loaded)."""
    field = DocumentFile._meta.get_field("file")
    original = field.storage  # type: ignore[attr-defined]

    def use(storage: Storage) -> Storage:
        field.storage = storage  # type: ignore[attr-defined]
        return storage

    yield use
    field.storage = original  # type: ignore[attr-defined]


@pytest.fixture
def png() -> Callable[..., SimpleUploadedFile]:
    def build(name: str = "front.png", content_type: str = "image/png") -> SimpleUploadedFile:
        return SimpleUploadedFile(name, make_png(), content_type=content_type)

    return build


def _user(username: str, *perms: str, staff: bool = False) -> User:
    user = User.objects.create_user(username=username, password="pw", is_staff=staff)
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return User.objects.get(pk=user.pk)  # drop the permission cache


@pytest.fixture
def user(db: Any) -> User:
    return _user("alice")


@pytest.fixture
def other_user(db: Any) -> User:
    return _user("mallory")


@pytest.fixture
def staff_viewer(db: Any) -> User:
    return _user("viewer", "django_kyc.view_applicant", staff=True)


@pytest.fixture
def reviewer(db: Any) -> User:
    return _user(
        "reviewer",
        "django_kyc.view_applicant",
        "django_kyc.review_applicant",
        "django_kyc.view_verification",
        "django_kyc.view_reviewqueueitem",
        "django_kyc.view_document",
        "django_kyc.view_webhookevent",
        "django_kyc.change_webhookevent",
        staff=True,
    )


@pytest.fixture
def client_for() -> Callable[[User | None], APIClient]:
    def build(user: User | None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_login(user)
        return client

    return build


@pytest.fixture
def make_applicant(db: Any) -> Callable[..., Applicant]:
    def build(
        user: User | None = None, last_name: str = "Smith", with_document: bool = True, **fields: Any
    ) -> Applicant:
        applicant = Applicant.objects.create(
            user=user, first_name="Jane", last_name=last_name, nationality="GB", **fields
        )
        if with_document:
            document = Document.objects.create(
                applicant=applicant, type="passport", number="X1234567", issuing_country="GB"
            )
            row = DocumentFile(document=document, side="single", sha256="0" * 64, content_type="image/png", size=10)
            row.file.save("p.png", io.BytesIO(make_png()), save=False)
            row.save()
        return applicant

    return build


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--run-packaging",
        action="store_true",
        help="build the wheel and install it into an empty virtualenv (slow; .ci/run turns it on)",
    )
    parser.addoption(
        "--run-resilience",
        action="store_true",
        help="run the resilience suite in tests/resilience (slow; make test-resilience, on PostgreSQL)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-packaging"):
        return
    skip = pytest.mark.skip(reason="packaging check runs with --run-packaging (.ci/run)")
    for item in items:
        if "packaging" in item.keywords:
            item.add_marker(skip)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize the backend contract's status-table test from each provider's STATUS_TABLE."""
    if "status_row" in metafunc.fixturenames and metafunc.cls is not None:
        rows = metafunc.cls.STATUS_TABLE
        metafunc.parametrize("status_row", rows, ids=[f"{outcome}->{status}" for outcome, status in rows])


@pytest.fixture
def rejections() -> Iterator[list[dict[str, Any]]]:
    """The keyword arguments of every ``webhook_rejected`` signal sent during the test."""
    from django_kyc import signals

    received: list[dict[str, Any]] = []

    def handler(sender: Any, **kwargs: Any) -> None:
        kwargs.pop("signal", None)
        received.append(kwargs)

    signals.webhook_rejected.connect(handler, weak=False)
    yield received
    signals.webhook_rejected.disconnect(handler)
