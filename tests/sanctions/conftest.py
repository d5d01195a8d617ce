"""Shared pieces of the sanctions lists tests: the shipped sample files and a loopback server publishing them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from django_kyc.sanctions.importers import get_importer
from django_kyc.testing.server import FakeProviderServer, FakeRequest, FakeResponse

SAMPLES = Path(__file__).resolve().parents[2] / "django_kyc" / "sanctions" / "samples"


def sample_files(source: str) -> dict[str, bytes]:
    """The sample files of ``source`` as the importer reads them."""
    return {name: (SAMPLES / name).read_bytes() for name in get_importer(source).files if (SAMPLES / name).exists()}


class FakeListServer(FakeProviderServer):
    """An authority's download host: ``/files/<name>`` answers the file, ``/old/<name>`` redirects there (as
    OFAC's old URLs and its S3 redirect do)."""

    provider = "lists"
    routes: ClassVar[list[tuple[str, str, str]]] = [
        ("GET", r"/files/(?P<name>[^/]+)", "file"),
        ("GET", r"/old/(?P<name>[^/]+)", "moved"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.files: dict[str, bytes] = {}

    def file(self, request: FakeRequest) -> FakeResponse:
        name = request.params["name"]
        if name not in self.files:
            return FakeResponse.text(404, "no such file")
        return FakeResponse(200, self.files[name], {"Content-Type": "application/octet-stream"})

    def moved(self, request: FakeRequest) -> FakeResponse:
        return FakeResponse(302, b"", {"Location": f"{self.base_url}/files/{request.params['name']}"})

    def url(self, name: str, *, old: bool = False) -> str:
        return f"{self.base_url}/{'old' if old else 'files'}/{name}"


@pytest.fixture
def list_server() -> Iterator[FakeListServer]:
    with FakeListServer() as server:
        assert isinstance(server, FakeListServer)
        yield server
