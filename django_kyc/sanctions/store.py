"""Write a parsed list into the database as its new version, atomically and incrementally.

The version row is created first, in its own transaction, so a load that fails stays on record (``failed``,
with its error). Everything else happens in one transaction under the list's row lock: entries whose digest
is unchanged are not touched, changed ones get their names and keys rebuilt, new ones are added, and entries
the file no longer holds are retired (``removed_at``), never deleted. Only at the end does the list point at
the new version, so a screening reads the old version or the complete new one, never a half.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from django.db import DatabaseError, connections, router, transaction
from django.utils import timezone

from django_kyc.models.sanctions import (
    ListEntry,
    ListEntryName,
    ListNameKey,
    ListVersion,
    SanctionsList,
    VersionStatus,
)
from django_kyc.sanctions import names
from django_kyc.sanctions.records import ListedEntry, ParsedList

logger = logging.getLogger("django_kyc.sanctions")

BATCH = 1000
T = TypeVar("T")
#: Called as ``progress(done, total)`` while entries are written.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class FileFacts:
    """Where a file came from and what it was, recorded on its version."""

    source_url: str = ""
    sha256: str = ""
    size_bytes: int = 0


def _batches(items: Iterable[T], size: int = BATCH) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def load_version(
    source: str, parsed: ParsedList, facts: FileFacts = FileFacts(), progress: Progress | None = None
) -> ListVersion:
    """Make ``parsed`` the version of list ``source`` that screenings read. Raises what failed, after
    recording it on the version; the version in use is then unchanged."""
    sanctions_list, _ = SanctionsList.objects.get_or_create(source=source)
    version = ListVersion.objects.create(
        sanctions_list=sanctions_list,
        source_url=facts.source_url,
        sha256=facts.sha256,
        size_bytes=facts.size_bytes,
        published_at=parsed.published_at,
        key_version=names.KEY_VERSION,
    )
    try:
        with transaction.atomic():
            _apply(sanctions_list, version, parsed, progress)
    except Exception as exc:
        ListVersion.objects.filter(pk=version.pk).update(status=VersionStatus.FAILED, error=str(exc)[:2000])
        raise
    tidy_index()
    version.refresh_from_db()
    return version


def tidy_index() -> None:
    """On PostgreSQL, vacuum and analyse the candidate index after a load, outside any transaction.

    Ranking candidates reads only the key table's lookup index (``kyc_listnamekey_lookup_idx``), which
    PostgreSQL answers from the index alone once the table's visibility map is current, that is after a
    vacuum. Until autovacuum gets there, a freshly loaded list costs every screening a heap read per key row
    (30,000 entries: ~20 ms more per screening; docs/benchmarks.md, "Screening quality"). Skipped inside a
    transaction (VACUUM cannot run there) and on other databases; a failure is logged, never raised: the list
    is loaded either way, and autovacuum catches up.
    """
    connection = connections[router.db_for_write(ListNameKey)]
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(ListNameKey._meta.db_table)}")
    except DatabaseError as exc:
        logger.warning("sanctions lists: could not vacuum the name keys: %s", exc)


def _apply(sanctions_list: SanctionsList, version: ListVersion, parsed: ParsedList, progress: Progress | None) -> None:
    locked = (
        SanctionsList.objects.select_for_update(of=("self",))
        .select_related("current_version")
        .get(pk=sanctions_list.pk)
    )
    if locked.current_version is not None and locked.current_version.key_version != names.KEY_VERSION:
        _rekey(sanctions_list)
    known = {
        source_id: (pk, digest, removed_at is None)
        for source_id, pk, digest, removed_at in ListEntry.objects.filter(sanctions_list=sanctions_list).values_list(
            "source_id", "pk", "digest", "removed_at"
        )
    }
    seen: set[str] = set()
    to_add: list[ListedEntry] = []
    to_change: list[tuple[int, ListedEntry]] = []
    for record in parsed.entries:
        if record.source_id in seen:
            continue  # an authority repeating a record: the first one stands
        seen.add(record.source_id)
        current = known.get(record.source_id)
        if current is None:
            to_add.append(record)
        elif current[1] != record.digest() or not current[2]:
            to_change.append((current[0], record))
    total = len(to_add) + len(to_change)
    done = 0
    for batch in _batches(to_add):
        entries = ListEntry.objects.bulk_create(
            [_entry(sanctions_list, version, record) for record in batch], batch_size=BATCH
        )
        _write_names(zip(entries, batch, strict=True))
        done += len(batch)
        if progress:
            progress(done, total)
    for changed_batch in _batches(to_change):
        ids = [pk for pk, _ in changed_batch]
        ListEntryName.objects.filter(entry_id__in=ids).delete()
        rows = []
        for pk, record in changed_batch:
            row = _entry(sanctions_list, version, record)
            row.pk = pk
            rows.append(row)
        ListEntry.objects.bulk_update(
            rows,
            [
                "kind",
                "caption",
                "programmes",
                "listed_on",
                "data",
                "raw",
                "digest",
                "changed_version",
                "removed_at",
                "removed_version",
            ],
            batch_size=BATCH,
        )
        _write_names(zip(rows, (record for _, record in changed_batch), strict=True))
        done += len(changed_batch)
        if progress:
            progress(done, total)
    gone = [source_id for source_id, (_, _, active) in known.items() if active and source_id not in seen]
    for gone_batch in _batches(gone):
        retired = ListEntry.objects.filter(sanctions_list=sanctions_list, source_id__in=gone_batch)
        # a retired entry keeps its names (a hit raised on it stays explainable) but leaves the candidate index
        ListNameKey.objects.filter(entry__in=retired).delete()
        retired.update(removed_at=timezone.now(), removed_version=version)
    added = len(to_add)
    ListVersion.objects.filter(pk=version.pk).update(
        status=VersionStatus.COMPLETE,
        loaded_at=timezone.now(),
        entries=len(seen),
        added=added,
        changed=len(to_change),
        removed=len(gone),
    )
    SanctionsList.objects.filter(pk=sanctions_list.pk).update(current_version=version)
    logger.info(
        "sanctions list %s loaded: %d entries, %d added, %d changed, %d removed",
        sanctions_list.source,
        len(seen),
        added,
        len(to_change),
        len(gone),
    )


def _rekey(sanctions_list: SanctionsList) -> None:
    """Rebuild every name key of the list's active entries: :data:`names.KEY_VERSION` changed since it was
    indexed, so keys of unchanged entries would no longer meet the keys screenings compute now."""
    ListNameKey.objects.filter(sanctions_list=sanctions_list).delete()
    rows = ListEntryName.objects.filter(entry__sanctions_list=sanctions_list, entry__removed_at__isnull=True)
    for batch in _batches(rows.values_list("pk", "name", "entry_id", "entry__kind").iterator(chunk_size=BATCH)):
        ListNameKey.objects.bulk_create(
            [
                row
                for pk, name, entry_id, kind in batch
                for row in _key_rows(name, pk, entry_id, sanctions_list.pk, kind)
            ],
            batch_size=BATCH * 4,
        )
    logger.info("sanctions list %s: name keys rebuilt for key version %d", sanctions_list.source, names.KEY_VERSION)


def _entry(sanctions_list: SanctionsList, version: ListVersion, record: ListedEntry) -> ListEntry:
    return ListEntry(
        sanctions_list=sanctions_list,
        source_id=record.source_id,
        kind=record.kind,
        caption=record.caption[:500],
        programmes=list(record.programmes),
        listed_on=record.listed_on,
        data=record.data(),
        raw=dict(record.raw),
        digest=record.digest(),
        first_version=version,
        changed_version=version,
        removed_at=None,
        removed_version=None,
    )


def _write_names(pairs: Iterable[tuple[ListEntry, ListedEntry]]) -> None:
    """Names and their keys for freshly written entries (two bulk inserts per batch)."""
    rows: list[ListEntryName] = []
    texts: list[str] = []
    for entry, record in pairs:
        for listed in record.names:
            normalised = names.normalised(listed.name)
            if not normalised:
                continue
            rows.append(
                ListEntryName(
                    entry=entry,
                    name=listed.name[:500],
                    name_type=listed.name_type,
                    weak=listed.weak,
                    script=listed.script,
                    normalised=normalised[:500],
                )
            )
            texts.append(listed.name)
    created = ListEntryName.objects.bulk_create(rows, batch_size=BATCH)
    ListNameKey.objects.bulk_create(
        [
            row
            for name, text in zip(created, texts, strict=True)
            for row in _key_rows(text, name.pk, name.entry_id, name.entry.sanctions_list_id, name.entry.kind)
        ],
        batch_size=BATCH * 4,
    )


def _key_rows(text: str, name_id: int, entry_id: int, sanctions_list_id: int, kind: str) -> list[ListNameKey]:
    """The candidate-index rows of one listed name: a row per key of ``text``, each carrying the entry, list and
    kind, which is all ranking candidates reads (:mod:`django_kyc.sanctions.matching`)."""
    return [
        ListNameKey(name_id=name_id, entry_id=entry_id, sanctions_list_id=sanctions_list_id, kind=kind, key=key)
        for key in names.name_keys(text)
    ]
