"""One importer per official list format, and the registry that says which files each list needs.

An importer turns the authority's bytes into a :class:`~django_kyc.sanctions.records.ParsedList` or raises
:class:`~django_kyc.exceptions.ListFormatError`; it never touches the database. The download (which URL for
which file) and the load are :mod:`django_kyc.sanctions.download`'s job.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import import_module

from django_kyc.exceptions import ListFormatError
from django_kyc.sanctions.records import ParsedList

#: ``parse(files)``: the list's files by name (as in :attr:`Importer.files`), their bytes.
Parser = Callable[[Mapping[str, bytes]], ParsedList]


@dataclass(frozen=True)
class Importer:
    """A list source: the files it is published as (name → official URL) and the parser that reads them.
    ``optional`` names files a load may go without (a missing comments file only loses overflow remarks)."""

    source: str
    files: Mapping[str, str]
    parser: Parser
    optional: frozenset[str] = field(default_factory=frozenset)

    def parse(self, files: Mapping[str, bytes]) -> ParsedList:
        missing = [name for name in self.files if name not in files and name not in self.optional]
        if missing:
            raise ListFormatError(f"{self.source}: missing file(s) {', '.join(missing)}.")
        parsed = self.parser(files)
        if not parsed.entries:
            raise ListFormatError(f"{self.source}: the file(s) hold no entries.")
        return parsed


_MODULES = ("ofac", "un", "eu", "uk")


def importers() -> dict[str, Importer]:
    """Every importer by source (``ofac_sdn``, ``ofac_cons``, ``un_sc``, ``eu_fsf``, ``uk_sl``)."""
    found: dict[str, Importer] = {}
    for module in _MODULES:
        for importer in import_module(f"{__name__}.{module}").IMPORTERS:
            found[importer.source] = importer
    return found


def get_importer(source: str) -> Importer:
    try:
        return importers()[source]
    except KeyError:
        raise ListFormatError(f"unknown sanctions list {source!r}; known: {', '.join(sorted(importers()))}.") from None
