"""Fetching, validating and loading a list from its URLs: a loopback server stands in for the authority."""

from __future__ import annotations

import pytest
from django.test import override_settings

from django_kyc.exceptions import ListDownloadError, ListFormatError
from django_kyc.models.sanctions import ListEntry, SanctionsList, VersionStatus
from django_kyc.sanctions.download import fetch, refresh
from tests.sanctions.conftest import SAMPLES, FakeListServer, sample_files
from tests.support.kyc_settings import kyc_settings_with

pytestmark = pytest.mark.django_db

UN = "consolidated.xml"


def serve_un(server: FakeListServer, content: bytes | None = None) -> dict[str, str]:
    server.files[UN] = content if content is not None else sample_files("un_sc")[UN]
    return {UN: server.url(UN, old=True)}


def test_a_list_is_fetched_through_a_redirect_and_recorded(list_server: FakeListServer) -> None:
    urls = serve_un(list_server)
    with override_settings(DJANGO_KYC=kyc_settings_with(SANCTIONS_LISTS={"un_sc": urls})):
        result = refresh("un_sc")
    version = result.version
    assert version is not None
    assert version.status == VersionStatus.COMPLETE
    assert version.source_url == list_server.url(UN)  # where the redirect led
    assert version.size_bytes == len(list_server.files[UN])
    assert len(version.sha256) == 64
    assert (version.entries, version.added) == (3, 3)
    assert ("GET", f"/old/{UN}") in list_server.calls
    assert ("GET", f"/files/{UN}") in list_server.calls
    assert SanctionsList.objects.get(source="un_sc").current_version == version


def test_an_unchanged_file_is_not_loaded_again(list_server: FakeListServer) -> None:
    urls = serve_un(list_server)
    first = refresh("un_sc", urls=urls)
    again = refresh("un_sc", urls=urls)
    assert again.skipped
    assert again.version is None
    assert again.sha256 == first.sha256
    assert "unchanged" in again.summary()
    forced = refresh("un_sc", urls=urls, force=True)
    assert forced.version is not None
    assert (forced.version.added, forced.version.changed) == (0, 0)


def test_a_malformed_file_leaves_the_version_in_use(list_server: FakeListServer) -> None:
    urls = serve_un(list_server)
    good = refresh("un_sc", urls=urls).version
    serve_un(list_server, sample_files("un_sc")[UN][:900])  # truncated mid-element
    with pytest.raises(ListFormatError, match=r"consolidated\.xml: not well-formed XML at line"):
        refresh("un_sc", urls=urls)
    sanctions_list = SanctionsList.objects.get(source="un_sc")
    assert sanctions_list.current_version == good
    failed = sanctions_list.versions.order_by("-started_at", "-pk").first()
    assert failed is not None
    assert failed.status == VersionStatus.FAILED
    assert "not well-formed" in failed.error
    assert ListEntry.objects.filter(sanctions_list=sanctions_list, removed_at__isnull=True).count() == 3


def test_the_shrink_guard_refuses_a_version_retiring_most_entries(list_server: FakeListServer) -> None:
    urls = serve_un(list_server)
    refresh("un_sc", urls=urls)
    one = (
        b"<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><DATAID>9000001</DATAID><FIRST_NAME>KARIM</FIRST_NAME>"
        b"</INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>"
    )
    serve_un(list_server, one)
    with pytest.raises(ListFormatError, match=r"would retire 2 of 3 active entries \(67%\).*--force"):
        refresh("un_sc", urls=urls)
    assert ListEntry.objects.filter(removed_at__isnull=True).count() == 3
    with override_settings(DJANGO_KYC=kyc_settings_with(SANCTIONS_MAX_SHRINK=0.7)):
        assert refresh("un_sc", urls=urls).version.removed == 2  # type: ignore[union-attr]


def test_force_loads_past_the_shrink_guard(list_server: FakeListServer) -> None:
    urls = serve_un(list_server)
    refresh("un_sc", urls=urls)
    serve_un(
        list_server,
        b"<CONSOLIDATED_LIST><ENTITIES><ENTITY><DATAID>1</DATAID><FIRST_NAME>X</FIRST_NAME></ENTITY></ENTITIES></CONSOLIDATED_LIST>",
    )
    version = refresh("un_sc", urls=urls, force=True).version
    assert version is not None
    assert (version.added, version.removed) == (1, 3)


def test_http_errors_size_cap_and_schemes(list_server: FakeListServer) -> None:
    with pytest.raises(ListDownloadError, match="answered HTTP 404"):
        fetch(UN, list_server.url("missing.xml"))
    list_server.files[UN] = b"x" * 1000
    with pytest.raises(ListDownloadError, match="longer than the 100 bytes allowed"):
        fetch(UN, list_server.url(UN), max_bytes=100)
    with pytest.raises(ListDownloadError, match="unsupported URL scheme"):
        fetch(UN, "ftp://example.test/x")
    with pytest.raises(ListDownloadError, match="cannot fetch"):
        fetch(UN, "http://127.0.0.1:9/nothing", timeout=1)


def test_file_urls_and_paths_load_local_mirrors() -> None:
    assert fetch(UN, (SAMPLES / UN).as_uri()).data == (SAMPLES / UN).read_bytes()
    assert fetch(UN, str(SAMPLES / UN)).data == (SAMPLES / UN).read_bytes()
    with pytest.raises(ListDownloadError, match="cannot read"):
        fetch(UN, (SAMPLES / "absent.xml").as_uri())
    with pytest.raises(ListDownloadError, match="more than the 10 allowed"):
        fetch(UN, str(SAMPLES / UN), max_bytes=10)


def test_an_optional_file_may_be_missing_but_not_a_required_one(list_server: FakeListServer) -> None:
    files = sample_files("ofac_cons")
    list_server.files.update({name: data for name, data in files.items() if name != "CONS_COMMENTS.CSV"})
    urls = {name: list_server.url(name) for name in files}
    assert refresh("ofac_cons", urls=urls).version.entries == 2  # type: ignore[union-attr]
    del list_server.files["CONS_ALT.CSV"]
    with pytest.raises(ListDownloadError, match=r"CONS_ALT\.CSV: .* answered HTTP 404"):
        refresh("ofac_cons", urls=urls, force=True)
    with pytest.raises(ListFormatError, match=r"no file called NOPE\.CSV"):
        refresh("ofac_cons", urls={"NOPE.CSV": "file:///x"})
