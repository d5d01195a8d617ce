"""Screen one person (or organisation name) against the lists loaded in the database.

Two steps, so a screening costs two indexed queries whatever the size of the lists (and a third, for the
matched entries, when something matched):

1. **Candidates** (:func:`candidates`): the applicant's name keys (:func:`~django_kyc.sanctions.names.name_keys`)
   are looked up in :class:`~django_kyc.models.ListNameKey`. Keys shared by very many listed names ("mohammed",
   "ali", their sounds) say little and would fetch thousands of rows, so they find candidates only when the
   name has nothing rarer; each entry found is ranked by the rarity of the keys it shares, and only the best
   :data:`MAX_CANDIDATES` are read. Only active entries (the only ones with keys) of lists with a version in
   use count, and only of the kinds asked for (persons are screened against persons). Candidates are plain
   rows, not model instances: building those for every candidate's names cost more than scoring them.
2. **Scoring** (:func:`score_candidate`): every name of each candidate against every form of the applicant's
   name (:mod:`django_kyc.sanctions.scoring`), then date of birth and nationality as evidence. Weak aliases
   never make a match alone: they only add a little to a match a strong name already makes.

Each :class:`Match` carries its evidence (:meth:`Match.details`), stored on the hit for the reviewer; its entry
and names are model instances, as read from the database.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connections, router
from django.db.models import Count

from django_kyc.models.sanctions import EntryKind, ListEntry, ListEntryName, ListNameKey, SanctionsList
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


@dataclass(frozen=True)
class CandidateName:
    """One name of a candidate, as read for scoring (the columns of :class:`ListEntryName`, words split)."""

    pk: int
    name: str
    name_type: str
    weak: bool
    script: str
    words: tuple[str, ...]

    def instance(self, entry: ListEntry) -> ListEntryName:
        """The name as the model instance a :class:`Match` carries, built as the ORM builds a row it read
        (``Model.from_db``), with its entry attached: no query."""
        name = ListEntryName.from_db(
            entry._state.db,
            ["id", "entry_id", "name", "name_type", "weak", "script", "normalised"],
            [self.pk, entry.pk, self.name, self.name_type, self.weak, self.script, " ".join(self.words)],
        )
        name.entry = entry
        return name


@dataclass(frozen=True)
class Candidate:
    """A listed entry as scoring reads it: plain values from one query, no model instances (building those
    for every candidate's names cost more than scoring them; see docs/benchmarks.md, "Screening quality")."""

    entry_id: int
    names: tuple[CandidateName, ...]
    dobs: tuple[Any, ...]
    nationalities: tuple[str, ...]


@dataclass(frozen=True)
class Scored:
    """A candidate's score and what made it, before the entry and name are read as model instances."""

    entry_id: int
    score: float
    name_score: float
    matched: CandidateName
    applicant_name: str
    weak_alias: CandidateName | None
    dob: scoring.Evidence
    nationality: scoring.Evidence


def key_weights(subject: Subject) -> dict[str, float]:
    """The keys of the subject's names that find candidates, each with its rarity weight (one query, for the
    keys' frequencies): a key shared by more than :data:`COMMON_KEY` listed names only when nothing is rarer."""
    keys: set[str] = set()
    for form in subject.names:
        keys |= name_keys(form)
    if not keys:
        return {}
    frequency = dict(
        ListNameKey.objects.filter(key__in=keys).values("key").annotate(n=Count("key")).values_list("key", "n")
    )
    usable = {key for key, count in frequency.items() if count <= COMMON_KEY}
    if not usable and frequency:
        usable = {min(frequency, key=frequency.__getitem__)}
    return {key: 1.0 / math.log(2 + frequency[key]) for key in sorted(usable)}


def _candidates_sql(weights: int, kinds: int, sources: int) -> str:
    """Names (and their entry's facts) of the best-ranked entries, ranked inside as a subquery over the key
    table alone (it carries the entry, kind and list of every active entry's keys). Plain SQL both SQLite
    and PostgreSQL run: built with the ORM, the per-key weights cost more to compile than the query to run."""
    key, name, entry, lists = (model._meta.db_table for model in (ListNameKey, ListEntryName, ListEntry, SanctionsList))
    placeholders = ", ".join(["(%s, %s)"] * weights)
    only_sources = f"AND l.source IN ({', '.join(['%s'] * sources)})" if sources else ""
    # only table names from the models and placeholder counts are formatted in; every value is a parameter
    return f"""
        SELECT n.entry_id, n.id, n.name, n.name_type, n.weak, n.script, n.normalised, e.data
        FROM {name} n JOIN {entry} e ON e.id = n.entry_id
        WHERE n.entry_id IN (
            SELECT k.entry_id
            FROM {key} k
            JOIN (VALUES {placeholders}) AS w ON k.key = w.column1
            JOIN {lists} l ON l.id = k.sanctions_list_id
            WHERE k.kind IN ({", ".join(["%s"] * kinds)}) AND l.current_version_id IS NOT NULL {only_sources}
            GROUP BY k.entry_id
            ORDER BY SUM(w.column2) DESC, k.entry_id
            LIMIT %s
        )
        ORDER BY n.entry_id, n.id
    """  # noqa: S608


def candidates(subject: Subject, sources: Sequence[str] = (), limit: int = MAX_CANDIDATES) -> list[Candidate]:
    """The active entries sharing the rarest keys with the subject's names, ranked by the rarity of the keys
    they share, the best ``limit`` of them with their names and the facts scoring reads: two queries."""
    weights = key_weights(subject)
    if not weights:
        return []
    params: list[Any] = [value for pair in weights.items() for value in pair]
    params += [*subject.kinds, *sources, limit]
    with connections[router.db_for_read(ListNameKey)].cursor() as cursor:
        cursor.execute(_candidates_sql(len(weights), len(subject.kinds), len(sources)), params)
        rows = cursor.fetchall()
    names: dict[int, list[CandidateName]] = {}
    data: dict[int, dict[str, Any]] = {}
    for entry_id, pk, listed, name_type, weak, script, normalised, entry_data in rows:
        names.setdefault(entry_id, []).append(
            CandidateName(pk, listed, name_type, bool(weak), script, tuple(normalised.split()))
        )
        if entry_id not in data:
            data[entry_id] = (json.loads(entry_data) if isinstance(entry_data, str) else entry_data) or {}
    return [
        Candidate(
            entry_id,
            tuple(entry_names),
            tuple(data[entry_id].get("dobs") or ()),
            tuple(data[entry_id].get("nationalities") or ()),
        )
        for entry_id, entry_names in names.items()
    ]


def score_candidate(
    subject: Subject, candidate: Candidate, forms: Sequence[tuple[str, Sequence[str]]] = ()
) -> Scored | None:
    """The subject against one entry: the best name pair (strong names only), then the evidence. ``forms``:
    the subject's names with their words, when the caller has already split them."""
    forms = forms or [(form, name_tokens(form)) for form in subject.names]
    best: tuple[float, CandidateName, str] | None = None
    weak: tuple[float, CandidateName] | None = None
    for listed in candidate.names:
        for form, tokens in forms:
            similarity = scoring.name_similarity(tokens, listed.words)
            if listed.weak:
                if weak is None or similarity > weak[0]:
                    weak = (similarity, listed)
            elif best is None or similarity > best[0]:
                best = (similarity, listed, form)
    if best is None or best[0] < NAME_FLOOR:
        return None
    name_score, matched, form = best
    corroborating = weak[1] if weak is not None and weak[0] >= WEAK_ALIAS_MIN else None
    dob = scoring.dob_evidence(subject.born, candidate.dobs)
    nationality = scoring.nationality_evidence(subject.nationality, candidate.nationalities)
    total = name_score + dob.delta + nationality.delta + (WEAK_ALIAS_BONUS if corroborating else 0.0)
    return Scored(
        entry_id=candidate.entry_id,
        score=max(0.0, min(1.0, total)),
        name_score=name_score,
        matched=matched,
        applicant_name=form,
        weak_alias=corroborating,
        dob=dob,
        nationality=nationality,
    )


def screen(subject: Subject, threshold: float, sources: Sequence[str] = (), max_hits: int = 10) -> list[Match]:
    """The entries matching ``subject`` at ``threshold`` or above, best first, at most ``max_hits``.

    Two queries find and describe the candidates; a third, only when something matched, reads the matched
    entries and names as model instances for the evidence (:meth:`Match.details`)."""
    forms = [(form, name_tokens(form)) for form in subject.names]
    scored = [score_candidate(subject, candidate, forms) for candidate in candidates(subject, sources)]
    found = [item for item in scored if item is not None and item.score >= threshold]
    found.sort(key=lambda item: (-item.score, item.entry_id))
    found = found[:max_hits]
    if not found:
        return []
    by_pk = ListEntry.objects.select_related("sanctions_list__current_version").in_bulk(
        [item.entry_id for item in found]
    )
    matches = []
    for item in found:
        entry = by_pk[item.entry_id]
        matches.append(
            Match(
                entry=entry,
                score=item.score,
                name_score=item.name_score,
                matched=item.matched.instance(entry),
                applicant_name=item.applicant_name,
                weak_alias=item.weak_alias.instance(entry) if item.weak_alias is not None else None,
                dob=item.dob,
                nationality=item.nationality,
            )
        )
    return matches
