"""Small sanctions lists for tests, loaded through the real loader (``store.load_version``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django_kyc.models import ListVersion
from django_kyc.models.sanctions import EntryKind, NameType
from django_kyc.sanctions.records import ListedEntry, ListedName, ParsedList, PartialDate
from django_kyc.sanctions.store import load_version


def person(
    source_id: str,
    name: str,
    *aliases: str,
    weak: Sequence[str] = (),
    original: Sequence[str] = (),
    dobs: Sequence[PartialDate] = (),
    nationalities: Sequence[str] = (),
    kind: str = EntryKind.PERSON,
) -> ListedEntry:
    """A listed entry: its primary name, strong aliases, weak aliases and names in the original script."""
    names = [ListedName(name)]
    names += [ListedName(alias, NameType.ALIAS) for alias in aliases]
    names += [ListedName(alias, NameType.ALIAS, weak=True) for alias in weak]
    names += [ListedName(text, NameType.ORIGINAL_SCRIPT) for text in original]
    return ListedEntry(source_id=source_id, kind=kind, names=names, dobs=dobs, nationalities=nationalities)


def load(source: str, entries: Iterable[ListedEntry]) -> ListVersion:
    return load_version(source, ParsedList(entries=list(entries)))
