"""How alike an applicant and a listed entry are: pure functions over folded names, dates and countries.

Names are compared word by word, not as strings, because that is how they vary between sources: parts come
in another order ("Sokolov Ivan"), a middle name is dropped or added, a given name shrinks to an initial
("I. Sokolov"), a transliteration differs by a letter or two ("Sergei"/"Sergey"). Each applicant word is paired
with its most similar listed word (Jaro-Winkler from ``rapidfuzz``; equal Metaphone codes from ``jellyfish``
count as a near match); words left over on one side only (an extra middle name) cost little, words that
contradict each other (two different given names) cost fully. A second comparison of the whole name written
without spaces covers Chinese names, whose syllables one source joins ("Jinping") and another splits.

Dates of birth and nationality are evidence for or against, never enough alone: a matching year lifts the
score a little, a date of birth further away than the list's tolerance pulls it well down, so a namesake born
decades apart falls below the threshold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from rapidfuzz.distance import OSA, JaroWinkler
from rapidfuzz.fuzz import ratio

from django_kyc.sanctions.names import phonetic

#: Word similarity below which two words are not paired at all.
WORD_FLOOR = 0.85
#: Credit for an initial standing for a word with that first letter ("j" for "john").
INITIAL = 0.85
#: What a word present on one side only costs, relative to a contradicting pair (a dropped middle name).
EXTRA_WORD = 0.25
#: Same-sounding words count as near only this close in letters: Metaphone ignores vowels, so on its own it
#: pairs "Brown" with "Brian" and Chinese syllables that differ ("Junwen" / "Jianwen").
SOUND_EDITS = 0.75
#: Added to the edit similarity that caps Jaro-Winkler (one edit in a 5-letter word: 0.8 + 0.05, just paired).
EDIT_SLACK = 0.05
#: Score changes from the supporting evidence.
DOB_EXACT = 0.06
DOB_YEAR = 0.03
DOB_CONTRADICTS = -0.25
NATIONALITY_MATCH = 0.02
NATIONALITY_DIFFERS = -0.03
#: Years either side of a listed date of birth that still count as the same (a "circa" gets twice as many).
DOB_TOLERANCE_YEARS = 1


@lru_cache(maxsize=65536)
def word_similarity(left: str, right: str) -> float:
    """0..1: equal words 1; an initial against a word with its letter :data:`INITIAL`; otherwise Jaro-Winkler
    (or the edit similarity, when higher: Jaro-Winkler is low on repeated letters, "Tiiriti" / "Tikriti"),
    capped by the share of letters in place (optimal string alignment, so a swap of two neighbours is one edit,
    plus :data:`EDIT_SLACK`), raised to 0.9 when both
    sound alike (same Metaphone code) and are not far apart in letters.

    The cap matters for short words and shared beginnings: Jaro-Winkler rewards a common prefix, so on its own
    it finds "Li" close to "Liu" and "Qiangwei" close to "Qingde", the very names Chinese namesakes differ by.
    """
    if left == right:
        return 1.0
    if len(left) == 1 or len(right) == 1:
        return INITIAL if left[0] == right[0] else 0.0
    edits = OSA.normalized_similarity(left, right)
    similarity = min(max(JaroWinkler.normalized_similarity(left, right), edits), edits + EDIT_SLACK)
    if similarity < 0.9 and edits >= SOUND_EDITS and phonetic(left) and phonetic(left) == phonetic(right):
        similarity = 0.9
    return similarity


def _paired(left: Sequence[str], right: Sequence[str]) -> tuple[float, int]:
    """Greedy best-first pairing of words: (sum of the paired similarities, number of pairs)."""
    pairs = sorted(
        ((word_similarity(a, b), i, j) for i, a in enumerate(left) for j, b in enumerate(right)),
        reverse=True,
    )
    used_left: set[int] = set()
    used_right: set[int] = set()
    total = 0.0
    for similarity, i, j in pairs:
        if similarity < WORD_FLOOR:
            break
        if i in used_left or j in used_right:
            continue
        used_left.add(i)
        used_right.add(j)
        total += similarity
    return total, len(used_left)


def name_similarity(left: Sequence[str], right: Sequence[str]) -> float:
    """0..1 between two names given as folded words (titles already gone)."""
    if not left or not right:
        return 0.0
    total, paired = _paired(left, right)
    unpaired_left, unpaired_right = len(left) - paired, len(right) - paired
    contradicting = min(unpaired_left, unpaired_right)
    extra = abs(unpaired_left - unpaired_right)
    aligned = total / (paired + contradicting + EXTRA_WORD * extra) if paired else 0.0
    if len(left) != len(right) and (len(left) > 1 or len(right) > 1):
        # the same letters split differently ("xi jin ping" / "xi jinping", "abdulrahman" / "abdul rahman")
        joined = ratio("".join(left), "".join(right)) / 100
        if joined >= 0.9:
            aligned = max(aligned, joined)
    return min(aligned, 1.0)


@dataclass(frozen=True)
class Evidence:
    """One piece of supporting or contradicting evidence: its score change and what it compared."""

    delta: float
    verdict: str  # "match", "year", "range", "contradicts", "unknown"
    listed: str = ""


def _year_span(dob: Mapping[str, Any]) -> tuple[int, int]:
    year = int(dob["year"])
    tolerance = DOB_TOLERANCE_YEARS * (2 if dob.get("circa") else 1)
    return year - tolerance, int(dob.get("year_to") or year) + tolerance


def dob_evidence(born: date | None, listed: Sequence[Mapping[str, Any]]) -> Evidence:
    """The applicant's date of birth against the entry's (exact dates, month and year, a year, a range of years,
    "circa"). A listed entry often gives several: the closest one counts."""
    if born is None or not listed:
        return Evidence(0.0, "unknown")
    best: Evidence | None = None
    for dob in listed:
        text = _dob_text(dob)
        exact_year = not dob.get("year_to") and not dob.get("circa") and int(dob["year"]) == born.year
        if exact_year and dob.get("month") and dob.get("day"):
            if (int(dob["month"]), int(dob["day"])) == (born.month, born.day):
                return Evidence(DOB_EXACT, "match", text)
            candidate = Evidence(DOB_YEAR / 2, "year", text)  # same year, another day: a typo or a namesake
        elif exact_year and dob.get("month") and int(dob["month"]) != born.month:
            candidate = Evidence(DOB_YEAR / 2, "year", text)
        elif exact_year:
            candidate = Evidence(DOB_YEAR, "year", text)
        else:
            low, high = _year_span(dob)
            if low <= born.year <= high:
                candidate = Evidence(DOB_YEAR / 2, "range", text)
            else:
                candidate = Evidence(DOB_CONTRADICTS, "contradicts", text)
        if best is None or candidate.delta > best.delta:
            best = candidate
    assert best is not None
    return best


def _dob_text(dob: Mapping[str, Any]) -> str:
    if dob.get("year_to"):
        return f"{dob['year']}..{dob['year_to']}"
    parts = [str(dob["year"]), *(f"{int(dob[key]):02d}" for key in ("month", "day") if dob.get(key))]
    return ("~" if dob.get("circa") else "") + "-".join(parts)


def nationality_evidence(nationality: str, listed: Sequence[str]) -> Evidence:
    """The applicant's nationality against the entry's: a small lift when it is among them, a small pull when
    the entry names others (people hold several, and lists are incomplete, so never more)."""
    if not nationality or not listed:
        return Evidence(0.0, "unknown")
    codes = [code.upper() for code in listed]
    if nationality.upper() in codes:
        return Evidence(NATIONALITY_MATCH, "match", ",".join(codes))
    return Evidence(NATIONALITY_DIFFERS, "contradicts", ",".join(codes))
