"""Screen one person (or organisation name) against the lists loaded in the database.

Two steps, so a screening costs a handful of indexed queries whatever the size of the lists:

1. **Candidates** (:func:`candidates`): the applicant's name keys (:func:`~django_kyc.sanctions.names.name_keys`)
   are looked up in :class:`~django_kyc.models.ListNameKey`. Keys shared by very many listed names ("mohammed",
   "ali", their sounds) say little and would fetch thousands of rows, so they find candidates only when the
   name has nothing rarer; each entry found is ranked by the rarity of the keys it shares, and only the best
   :data:`MAX_CANDIDATES` are read. Only active entries (``removed_at`` unset) of lists with a version in use
   count, and only of the kinds asked for (persons are screened against persons).
2. **Scoring** (:func:`score_entry`): every name of each candidate against every form of the applicant's name
   (:mod:`django_kyc.sanctions.scoring`), then date of birth and nationality as evidence. Weak aliases
   never make a match alone: they only add a little to a match a strong name already makes.

Each :class:`Match` carries its evidence (:meth:`Match.details`), stored on the hit for the reviewer.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Case, Count, FloatField, Sum, Value, When

from django_kyc.models.sanctions import EntryKind, ListEntry, ListEntryName, ListNameKey
from django_kyc.sanctions import scoring
from django_kyc.sanctions.names import name_keys, name_tokens

#: Stored with every hit; bump when a change to matching or scoring can change a score.
ALGORITHM_VERSION = "lists-1"
#: Entries scored per screening, best-ranked first.
MAX_CANDIDATES = 50
#: A key shared by more listed names than this finds candidates only when the name has no rarer key.
COMMON_KEY = 1500
#: Below this name similarity an entry is not considered at all, whatever the other evidence.
NAME_FLOOR = 0.6
#: What a weak alias matching too adds to a strong name's score (``WEAK_ALIAS_MIN`` and up).
WEAK_ALIAS_BONUS = 0.03
WEAK_ALIAS_MIN = 0.9


@dataclass(frozen=True)
class Subject:
    """Who is screened: the forms of their name (full, and without the middle name), and the evidence."""

    names: tuple[str, ...]
    born: date | None = None
    nationality: str = ""
    kinds: tuple[str, ...] = (EntryKind.PERSON,)

    @classmethod
    def person(
        cls,
        first_name: str = "",
        last_name: str = "",
        middle_name: str = "",
        born: date | None = None,
        nationality: str = "",
        include_organisations: bool = False,
    ) -> Subject:
        full = " ".join(part for part in (first_name, middle_name, last_name) if part.strip())
        short = " ".join(part for part in (first_name, last_name) if part.strip())
        forms = tuple(dict.fromkeys(form for form in (full, short) if name_tokens(form)))
        kinds = (EntryKind.PERSON, EntryKind.ORGANISATION) if include_organisations else (EntryKind.PERSON,)
        return cls(names=forms, born=born, nationality=nationality, kinds=kinds)


@dataclass(frozen=True)
class Match:
    """One listed entry scoring at or above the threshold, with what made it."""

    entry: ListEntry
    score: float
    name_score: float
    matched: ListEntryName
    applicant_name: str
    weak_alias: ListEntryName | None
    dob: scoring.Evidence
    nationality: scoring.Evidence

    def details(self, threshold: float) -> dict[str, Any]:
        """The evidence a reviewer reads (stored as ``AmlHit.details``)."""
        version = self.entry.sanctions_list.current_version
        return {
            "list": self.entry.sanctions_list.source,
            "source_id": self.entry.source_id,
            "entity_digest": self.entry.digest,
            "kind": self.entry.kind,
            "programmes": list(self.entry.programmes),
            "list_version": version.pk if version else None,
            "list_loaded_at": version.loaded_at.isoformat() if version and version.loaded_at else None,
            "matched_name": self.matched.name,
            "matched_name_type": self.matched.name_type,
            "matched_name_weak": self.matched.weak,
            "applicant_name": self.applicant_name,
            "weak_alias": self.weak_alias.name if self.weak_alias else None,
            "scores": {
                "name": round(self.name_score, 4),
                "dob": self.dob.delta,
                "nationality": self.nationality.delta,
                "weak_alias": WEAK_ALIAS_BONUS if self.weak_alias else 0.0,
                "total": round(self.score, 4),
            },
            "dob": {"verdict": self.dob.verdict, "listed": self.dob.listed},
            "nationality": {"verdict": self.nationality.verdict, "listed": self.nationality.listed},
            "algorithm": ALGORITHM_VERSION,
            "threshold": threshold,
        }


def candidates(subject: Subject, sources: Sequence[str] = (), limit: int = MAX_CANDIDATES) -> list[ListEntry]:
    """The active entries sharing the rarest keys with the subject's names, best first, with their names,
    list and version loaded (three queries, plus one for the keys' frequencies)."""
    keys: set[str] = set()
    for form in subject.names:
        keys |= name_keys(form)
    if not keys:
        return []
    frequency = dict(
        ListNameKey.objects.filter(key__in=keys).values("key").annotate(n=Count("id")).values_list("key", "n")
    )
    usable = {key for key, count in frequency.items() if count <= COMMON_KEY}
    if not usable and frequency:
        usable = {min(frequency, key=frequency.__getitem__)}
    if not usable:
        return []
    rows = ListNameKey.objects.filter(
        key__in=usable,
        name__entry__removed_at__isnull=True,
        name__entry__kind__in=subject.kinds,
        name__entry__sanctions_list__current_version__isnull=False,
    )
    if sources:
        rows = rows.filter(name__entry__sanctions_list__source__in=sources)
    # ranked in the database, so only the best ``limit`` rows come back however many share a key
    rarity = Case(
        *(When(key=key, then=Value(1.0 / math.log(2 + frequency[key]))) for key in sorted(usable)),
        default=Value(0.0),
        output_field=FloatField(),
    )
    ranked = (
        rows.values("name__entry_id")
        .annotate(weight=Sum(rarity))
        .order_by("-weight", "name__entry_id")
        .values_list("name__entry_id", "weight")[:limit]
    )
    weight = dict(ranked)
    best = list(weight)
    entries = (
        ListEntry.objects.filter(pk__in=best)
        .select_related("sanctions_list__current_version")
        .prefetch_related("names")
    )
    return sorted(entries, key=lambda entry: -weight[entry.pk])


def score_entry(subject: Subject, entry: ListEntry) -> Match | None:
    """The subject against one entry: the best name pair (strong names only), then the evidence."""
    forms = [(form, name_tokens(form)) for form in subject.names]
    best: tuple[float, ListEntryName, str] | None = None
    weak: tuple[float, ListEntryName] | None = None
    for listed in entry.names.all():
        words = listed.normalised.split()
        for form, tokens in forms:
            similarity = scoring.name_similarity(tokens, words)
            if listed.weak:
                if weak is None or similarity > weak[0]:
                    weak = (similarity, listed)
            elif best is None or similarity > best[0]:
                best = (similarity, listed, form)
    if best is None or best[0] < NAME_FLOOR:
        return None
    name_score, matched, form = best
    corroborating = weak[1] if weak is not None and weak[0] >= WEAK_ALIAS_MIN else None
    dob = scoring.dob_evidence(subject.born, entry.data.get("dobs") or [])
    nationality = scoring.nationality_evidence(subject.nationality, entry.data.get("nationalities") or [])
    total = name_score + dob.delta + nationality.delta + (WEAK_ALIAS_BONUS if corroborating else 0.0)
    return Match(
        entry=entry,
        score=max(0.0, min(1.0, total)),
        name_score=name_score,
        matched=matched,
        applicant_name=form,
        weak_alias=corroborating,
        dob=dob,
        nationality=nationality,
    )


def screen(subject: Subject, threshold: float, sources: Sequence[str] = (), max_hits: int = 10) -> list[Match]:
    """The entries matching ``subject`` at ``threshold`` or above, best first, at most ``max_hits``."""
    matches = (score_entry(subject, entry) for entry in candidates(subject, sources))
    return _best(matches, threshold, max_hits)


def _best(matches: Iterable[Match | None], threshold: float, max_hits: int) -> list[Match]:
    found = [match for match in matches if match is not None and match.score >= threshold]
    found.sort(key=lambda match: (-match.score, match.entry.pk))
    return found[:max_hits]
