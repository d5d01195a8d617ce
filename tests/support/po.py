"""Read gettext catalogs without GNU gettext: the entries of a ``.po`` file and the table of a ``.mo`` file.

The tests compare the two (the committed ``.mo`` must say what its ``.po`` says) and look for empty or fuzzy
entries, on any machine: only ``scripts/messages.sh`` needs gettext installed.
"""

from __future__ import annotations

import ast
import struct
from dataclasses import dataclass, field
from pathlib import Path

#: gettext joins a context and its msgid with EOT, and a msgid and its plural (or plural forms) with NUL
CONTEXT_SEPARATOR = "\x04"
PLURAL_SEPARATOR = "\x00"


@dataclass
class Entry:
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    #: ``msgstr``, or ``msgstr[0]``, ``msgstr[1]``, ... of a plural entry
    msgstrs: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)

    @property
    def fuzzy(self) -> bool:
        return "fuzzy" in self.flags

    @property
    def translated(self) -> bool:
        return bool(self.msgstrs) and all(self.msgstrs)

    @property
    def key(self) -> str:
        """The entry's key in a ``.mo`` table."""
        key = self.msgid if self.msgctxt is None else f"{self.msgctxt}{CONTEXT_SEPARATOR}{self.msgid}"
        return key if self.msgid_plural is None else f"{key}{PLURAL_SEPARATOR}{self.msgid_plural}"

    @property
    def value(self) -> str:
        """The entry's value in a ``.mo`` table."""
        return PLURAL_SEPARATOR.join(self.msgstrs)


def _string(line: str) -> str:
    """The text of a quoted ``.po`` string; its escapes (``\\n``, ``\\"``, ``\\\\``) are Python's too."""
    value = ast.literal_eval(line.strip())
    assert isinstance(value, str), line
    return value


def read_po(path: Path) -> list[Entry]:
    """The entries of a ``.po`` file, the header (``msgid ""``) first; obsolete (``#~``) entries left out."""
    entries: list[Entry] = []
    current = Entry()
    started = False  # the current entry has a keyword line (a comment alone starts nothing)
    target: tuple[str, int] | None = None  # which field a continuation line adds to

    def finish() -> None:
        nonlocal current, started, target
        if started:
            entries.append(current)
        current, started, target = Entry(), False, None

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#~"):
            if started:
                finish()
            continue
        if line.startswith("#"):
            if started:
                finish()
            if line.startswith("#,"):
                current.flags |= {flag.strip() for flag in line[2:].split(",")}
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            assert target is not None, f"{path}: a string outside an entry: {raw!r}"
            name, index = target
            if name == "msgstr":
                current.msgstrs[index] += _string(line)
            else:
                setattr(current, name, (getattr(current, name) or "") + _string(line))
            continue
        if keyword in ("msgctxt", "msgid") and started and current.msgstrs:
            finish()  # entries need no blank line between them
        started = True
        if keyword in ("msgctxt", "msgid", "msgid_plural"):
            setattr(current, keyword, _string(rest))
            target = (keyword, 0)
        elif keyword == "msgstr" or keyword.startswith("msgstr["):
            current.msgstrs.append(_string(rest))
            target = ("msgstr", len(current.msgstrs) - 1)
        else:
            raise ValueError(f"{path}: cannot read {raw!r}")
    finish()
    return entries


def read_mo(path: Path) -> dict[str, str]:
    """The key -> value table of a ``.mo`` file (the GNU format: a header and two string tables)."""
    data = path.read_bytes()
    magic = struct.unpack("<I", data[:4])[0]
    order = "<" if magic == 0x950412DE else ">"
    _revision, count, originals, translations = struct.unpack(f"{order}4I", data[4:20])

    def strings(table: int) -> list[str]:
        found = []
        for index in range(count):
            length, offset = struct.unpack(f"{order}2I", data[table + 8 * index : table + 8 * index + 8])
            found.append(data[offset : offset + length].decode("utf-8"))
        return found

    return dict(zip(strings(originals), strings(translations), strict=True))
