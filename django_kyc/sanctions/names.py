"""Name normalisation shared by the loader (which stores each listed name's keys) and the matcher (which looks
the applicant's keys up): both sides must fold a name the same way, or the index finds nothing.

Folding transliterates any script to Latin (``anyascii``), drops diacritics, case and punctuation, and removes
titles and honorifics. Keys are the folded tokens of two letters or more, minus name particles ("al", "bin",
"van"), plus each token's phonetic code (``jellyfish``'s Metaphone), so "Mohammed" and "Muhammad" or
"Sokolov" and "Sokoloff" meet in the index. Changing what a key is means listed names must be re-keyed: bump
:data:`KEY_VERSION`, and the loader rebuilds the keys of lists keyed under another version.
"""

from __future__ import annotations

import re
import unicodedata
from itertools import pairwise

import jellyfish
from anyascii import anyascii

#: The version of :func:`name_keys`; stored keys made under another version are rebuilt on the next load.
#: 2: Chinese characters and Korean syllables fold to one word each, adjacent words also key joined, and
#: longer words key their first and last three letters (``^sok``, ``lov$``) so a one-letter typo still meets.
KEY_VERSION = 2

#: Titles and honorifics: not part of who someone is, so neither keyed nor compared.
TITLES = frozenset(
    {
        "mr",
        "mrs",
        "ms",
        "miss",
        "mx",
        "dr",
        "prof",
        "sir",
        "dame",
        "lord",
        "lady",
        "madam",
        "madame",
        "mme",
        "mlle",
        "herr",
        "frau",
        "sr",
        "sra",
        "srta",
        "don",
        "dona",
        "sheikh",
        "shaikh",
        "sheik",
        "shaykh",
        "haji",
        "hajji",
        "hadji",
        "alhaj",
        "alhajj",
        "mullah",
        "mulla",
        "maulana",
        "maulvi",
        "mawlawi",
        "imam",
        "ayatollah",
        "sayyid",
        "sayed",
        "syed",
        "emir",
        "amir",
        "prince",
        "princess",
        "king",
        "queen",
        "general",
        "gen",
        "colonel",
        "col",
        "major",
        "maj",
        "captain",
        "capt",
        "lieutenant",
        "lt",
        "brigadier",
        "admiral",
        "adm",
        "commander",
        "cmdr",
        "sergeant",
        "sgt",
        "president",
        "minister",
        "deputy",
        "ambassador",
        "rev",
        "reverend",
        "father",
        "bishop",
        "archbishop",
        "his",
        "her",
        "excellency",
        "he",
    }
)
#: Particles that join names: compared, but too common to find candidates by.
PARTICLES = frozenset(
    {
        "al",
        "el",
        "ul",
        "ud",
        "ad",
        "ar",
        "as",
        "ash",
        "at",
        "az",
        "bin",
        "ben",
        "ibn",
        "bint",
        "binti",
        "abu",
        "abou",
        "abd",
        "abdul",
        "abdel",
        "ould",
        "de",
        "del",
        "della",
        "der",
        "di",
        "da",
        "das",
        "do",
        "dos",
        "du",
        "la",
        "le",
        "van",
        "von",
        "ter",
        "ten",
        "zu",
        "y",
        "e",
    }
)
#: Initial keys are made from the first words of a name only (a long name would make too many).
INITIAL_WORDS = 4
#: Words this long also key their first and last three letters: a typo rarely hits both ends.
AFFIX_FROM = 5
# applied after anyascii, which has already turned typographic dashes and quotes into ASCII ones
_SEPARATORS = re.compile(r"[\s\-_/.,;:'`\"()\[\]{}]+")
_NOT_ALNUM = re.compile(r"[^a-z0-9 ]+")


def _syllabic(char: str) -> bool:
    """A Chinese character or a Korean syllable: one syllable of a name, written without spaces."""
    code = ord(char)
    return 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xAC00 <= code <= 0xD7A3


def _transliterate(text: str) -> str:
    # anyascii runs Chinese and Korean syllables together ("习近平" → "XiJinPing"); one word per syllable
    # instead, so the Latin spellings ("Xi Jinping") meet them through the joined keys of name_keys
    if not any(_syllabic(char) for char in text):
        return anyascii(text)
    return "".join(f" {anyascii(char)} " if _syllabic(char) else anyascii(char) for char in text)


def fold(text: str) -> str:
    """``text`` in lower-case ASCII, one space between words, punctuation gone ("Ḥasan al-Bashīr" →
    "hasan al bashir", "Иван Соколов" → "ivan sokolov", "习近平" → "xi jin ping")."""
    ascii_text = _transliterate(unicodedata.normalize("NFKC", text)).lower()
    spaced = _SEPARATORS.sub(" ", ascii_text)
    return " ".join(_NOT_ALNUM.sub("", spaced).split())


def name_tokens(text: str) -> list[str]:
    """The folded words of a name, in order, without titles and honorifics."""
    return [token for token in fold(text).split() if token not in TITLES]


def phonetic(token: str) -> str:
    """The token's phonetic code (Metaphone); empty for tokens with no letters."""
    return jellyfish.metaphone(token) if token.isalpha() else ""


def name_keys(text: str) -> set[str]:
    """The index keys of a name: its distinctive tokens and, prefixed with ``~``, their phonetic codes, plus
    each pair of adjacent words written as one ("abdul rahman" → "abdulrahman", "jin ping" → "jinping"), so
    a name spelt with or without a space meets its other spelling."""
    tokens = name_tokens(text)
    keys: set[str] = set()
    for token in tokens:
        if len(token) < 2 or token in PARTICLES:
            continue
        keys.add(token[:64])
        code = phonetic(token)
        if code:
            keys.add(f"~{code}"[:64])
        if len(token) >= AFFIX_FROM:
            keys.add(f"^{token[:3]}")
            keys.add(f"{token[-3:]}$")
    for first, second in pairwise(tokens):
        if len(first) > 1 and len(second) > 1:
            keys.add(f"{first}{second}"[:64])
    keys |= initial_keys(tokens)
    return keys


def initial_keys(tokens: list[str]) -> set[str]:
    """``j.smith`` for "John Smith" and "J. Smith" alike: each word's initial with each other word, so a name
    given with initials finds its entry among the many sharing only its family name (from the first
    :data:`INITIAL_WORDS` words; particles left out, but not a one-letter word: "Y." is an initial there)."""
    words = [token for token in tokens if len(token) == 1 or token not in PARTICLES][:INITIAL_WORDS]
    return {
        f"{word[0]}.{other}"[:64]
        for index, word in enumerate(words)
        for other_index, other in enumerate(words)
        if index != other_index
    }


def normalised(text: str) -> str:
    """The stored comparison form: the folded tokens without titles, in the order given."""
    return " ".join(name_tokens(text))
