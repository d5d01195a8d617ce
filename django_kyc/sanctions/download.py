"""Fetch a list's files, validate them, and load them as the list's new version.

The URLs come from ``SANCTIONS_LISTS`` (official ones by default, a site's mirror where it says so, ``file://``
for local copies). Each file is streamed with a size cap and timeouts, redirects followed, and hashed; when the
files' checksum equals the version in use nothing is parsed or written. Everything is validated before the
database is touched: a file that does not parse is refused with the importer's message, and so is a version
that would retire more than ``SANCTIONS_MAX_SHRINK`` of the active entries (a truncated file that still
parses must not retire half a list), unless forced.

These are public files on authorities' web servers, not a provider's API: no credentials, no retries with
idempotency keys, so a plain streamed ``requests`` GET is the right tool, not the provider HTTP client.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import requests

from django_kyc.conf import kyc_settings
from django_kyc.exceptions import ListDownloadError, ListFormatError
from django_kyc.models.sanctions import ListEntry, ListVersion, SanctionsList, VersionStatus
from django_kyc.sanctions import names
from django_kyc.sanctions.importers import Importer, get_importer
from django_kyc.sanctions.records import ParsedList
from django_kyc.sanctions.store import FileFacts, Progress, load_version

logger = logging.getLogger("django_kyc.sanctions")

CHUNK = 64 * 1024
SCHEMES = ("http", "https", "file")


@dataclass(frozen=True)
class Fetched:
    name: str
    url: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class LoadResult:
    """What one list's refresh did, for the command's report and the schedule's log."""

    source: str
    version: ListVersion | None
    sha256: str
    seconds: float
    skipped: bool = False

    def summary(self) -> str:
        if self.skipped or self.version is None:
            return f"{self.source}: unchanged (sha256 {self.sha256[:16]}… is the version in use), nothing loaded"
        v = self.version
        return (
            f"{self.source}: version {v.pk}, {v.entries} entries, {v.added} added, {v.changed} changed, "
            f"{v.removed} removed, sha256 {self.sha256}, {self.seconds:.1f}s"
        )


def configured_lists() -> dict[str, dict[str, str]]:
    """Each configured list with the URL of every file: ``SANCTIONS_LISTS`` over the official URLs."""
    configured = kyc_settings.SANCTIONS_LISTS or {}
    lists: dict[str, dict[str, str]] = {}
    for source, overrides in dict(configured).items():
        importer = get_importer(source)
        lists[source] = {**importer.files, **dict(overrides or {})}
    return lists


def fetch(name: str, url: str, *, max_bytes: int | None = None, timeout: float | None = None) -> Fetched:
    """The bytes at ``url`` (``http(s)://``, ``file://`` or a plain path), at most ``max_bytes`` of them."""
    limit = int(max_bytes if max_bytes is not None else kyc_settings.SANCTIONS_MAX_FILE_BYTES)
    wait = float(timeout if timeout is not None else kyc_settings.SANCTIONS_DOWNLOAD_TIMEOUT)
    parts = urlsplit(url)
    if parts.scheme in ("", "file"):
        path = Path(unquote(parts.path) if parts.scheme else url)
        try:
            size = path.stat().st_size
            if size > limit:
                raise ListDownloadError(f"{name}: {url} is {size} bytes, more than the {limit} allowed.")
            return Fetched(name, url, path.read_bytes())
        except OSError as exc:
            raise ListDownloadError(f"{name}: cannot read {url}: {exc}.") from exc
    if parts.scheme not in SCHEMES:
        raise ListDownloadError(f"{name}: unsupported URL scheme in {url!r} (use https://, http:// or file://).")
    try:
        with requests.get(url, stream=True, timeout=(wait, wait), allow_redirects=True) as response:
            if response.status_code != 200:
                raise ListDownloadError(f"{name}: {url} answered HTTP {response.status_code}.")
            chunks: list[bytes] = []
            received = 0
            for chunk in response.iter_content(CHUNK):
                received += len(chunk)
                if received > limit:
                    raise ListDownloadError(f"{name}: {url} is longer than the {limit} bytes allowed.")
                chunks.append(chunk)
            return Fetched(name, response.url or url, b"".join(chunks))
    except requests.RequestException as exc:
        raise ListDownloadError(f"{name}: cannot fetch {url}: {exc}.") from exc


def combined_sha256(files: list[Fetched]) -> str:
    """One checksum for a list published as several files (each file's hash, in name order); a single file's
    own SHA-256 when there is one, so it can be compared with ``sha256sum``."""
    if len(files) == 1:
        return files[0].sha256
    joined = "".join(f"{item.name}:{item.sha256}\n" for item in sorted(files, key=lambda item: item.name))
    return hashlib.sha256(joined.encode()).hexdigest()


def check_shrink(sanctions_list: SanctionsList, parsed: ParsedList, max_share: float) -> None:
    """Refuse a version that would retire more than ``max_share`` of the active entries."""
    active = set(
        ListEntry.objects.filter(sanctions_list=sanctions_list, removed_at__isnull=True).values_list(
            "source_id", flat=True
        )
    )
    if not active:
        return
    retiring = len(active - {entry.source_id for entry in parsed.entries})
    if retiring / len(active) > max_share:
        raise ListFormatError(
            f"{sanctions_list.source}: the new file would retire {retiring} of {len(active)} active entries "
            f"({retiring / len(active):.0%}), more than SANCTIONS_MAX_SHRINK ({max_share:.0%}); the file may be "
            "truncated. Load it with --force if the list really shrank."
        )


def refresh(
    source: str,
    *,
    urls: Mapping[str, str] | None = None,
    force: bool = False,
    progress: Progress | None = None,
    on_file: Callable[[Fetched], None] | None = None,
) -> LoadResult:
    """Fetch, validate and load list ``source``. ``urls`` (file name → URL or path) replaces configured URLs
    file by file. Raises :class:`ListDownloadError` or :class:`ListFormatError` (recorded as a failed version
    when a file was read); the version in use then stays."""
    started = time.monotonic()
    importer = get_importer(source)
    wanted = {**configured_lists().get(source, dict(importer.files)), **dict(urls or {})}
    fetched = _fetch_all(importer, wanted, on_file)
    sha256 = combined_sha256(fetched)
    sanctions_list, _ = SanctionsList.objects.get_or_create(source=source)
    current = sanctions_list.current_version
    if not force and current is not None and current.sha256 == sha256 and current.key_version == names.KEY_VERSION:
        return LoadResult(source, None, sha256, time.monotonic() - started, skipped=True)
    facts = FileFacts(
        source_url="\n".join(item.url for item in fetched),
        sha256=sha256,
        size_bytes=sum(len(item.data) for item in fetched),
    )
    try:
        parsed = importer.parse({item.name: item.data for item in fetched})
        if not force:
            check_shrink(sanctions_list, parsed, float(kyc_settings.SANCTIONS_MAX_SHRINK))
    except ListFormatError as exc:
        ListVersion.objects.create(
            sanctions_list=sanctions_list,
            status=VersionStatus.FAILED,
            error=str(exc)[:2000],
            source_url=facts.source_url,
            sha256=facts.sha256,
            size_bytes=facts.size_bytes,
            key_version=names.KEY_VERSION,
        )
        raise
    version = load_version(source, parsed, facts, progress)
    return LoadResult(source, version, sha256, time.monotonic() - started)


def _fetch_all(
    importer: Importer, wanted: Mapping[str, str], on_file: Callable[[Fetched], None] | None
) -> list[Fetched]:
    unknown = sorted(set(wanted) - set(importer.files))
    if unknown:
        raise ListFormatError(
            f"{importer.source}: no file called {', '.join(unknown)}; its files are {', '.join(importer.files)}."
        )
    fetched = []
    for name, url in wanted.items():
        if not url and name in importer.optional:
            continue
        try:
            item = fetch(name, url)
        except ListDownloadError as exc:
            if name not in importer.optional:
                raise
            logger.warning("sanctions list %s: optional file skipped: %s", importer.source, exc)
            continue
        fetched.append(item)
        if on_file:
            on_file(item)
    return fetched
