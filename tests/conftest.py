from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import caches
from django.core.files.storage import Storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from rest_framework.test import APIClient

from django_kyc.backends import registry
from django_kyc.models import Applicant, Document, DocumentFile
from tests.support.factories import create_user
from tests.support.files import make_png


@pytest.fixture(autouse=True)
def _fresh_backends() -> Iterator[None]:
    registry.clear_cache()
    yield
    registry.clear_cache()


@pytest.fixture(autouse=True)
def _english_after_each_test() -> Iterator[None]:
    """A request in German activates German for its thread (LocaleMiddleware) and nothing switches back: the
    next test on that thread would read messages built with gettext in German."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _full_provider_rate_budgets() -> Iterator[None]:
    """Backends count their provider's rate limits per alias across a window of seconds or minutes: without
    this a test (one that freezes the clock especially) would inherit what the tests before it spent."""
    cache = caches["provider-rate-limits"]
    cache.clear()
    yield
    cache.clear()


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


@pytest.fixture
def user(db: Any) -> User:
    return create_user("alice")


@pytest.fixture
def other_user(db: Any) -> User:
    return create_user("mallory")


@pytest.fixture
def staff_viewer(db: Any) -> User:
    return create_user("viewer", "django_kyc.view_applicant", staff=True)


@pytest.fixture
def reviewer(db: Any) -> User:
    return create_user(
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


#: What ``--fast`` (``make test-fast``) leaves out: tests that drive a browser, start qcluster, gunicorn or other
#: server processes, or build the wheel, and the opt-in resilience suite, which is not even collected.
SLOW_MARKERS = ("browser", "cluster", "server", "packaging", "resilience")
RESILIENCE = Path(__file__).resolve().parent / "resilience"


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
    parser.addoption(
        "--fast",
        action="store_true",
        help=f"leave out the tests marked {', '.join(SLOW_MARKERS)} and tests/resilience (make test-fast)",
    )


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if config.getoption("--fast") and collection_path == RESILIENCE:
        return True
    return None  # let the other rules decide


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--fast"):
        kept: list[pytest.Item] = []
        slow: list[pytest.Item] = []
        for item in items:
            (slow if any(item.get_closest_marker(name) for name in SLOW_MARKERS) else kept).append(item)
        if slow:
            config.hook.pytest_deselected(items=slow)
            items[:] = kept
    if not config.getoption("--run-packaging"):
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
