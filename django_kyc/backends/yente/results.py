"""yente's answers read into hits: a result yente flags ``match`` (or scored at or above the threshold) is a
hit, with the evidence a reviewer needs to see why (``docs/providers/yente.md``, "Hits and evidence")."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django_kyc.backends.parsing import mapping, number, string_list, text
from django_kyc.backends.values import AmlHitResult
from django_kyc.exceptions import PermanentProviderError

PROVIDER = "yente"
#: ``AmlHit.details`` key of the listed entity's content digest (the dismissal memory reads it).
ENTITY_DIGEST = "entity_digest"
#: The listed entity's properties kept as evidence (public list data; the person's own values never are).
EVIDENCE_PROPERTIES = ("name", "alias", "birthDate", "nationality", "country", "position", "sourceUrl")


def matches_of(answer: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """The ``EntityMatches`` yente answered for query ``key``; an answer without it (or with a per-query status
    other than 200) is refused rather than read as "no match"."""
    found = mapping(mapping(answer.get("responses")).get(key))
    if not found:
        raise PermanentProviderError(f"yente answered without a response for query {key!r}", provider=PROVIDER)
    status = found.get("status", 200)
    if status != 200:
        raise PermanentProviderError(f"yente answered query {key!r} with status {status}", provider=PROVIDER)
    return found


def results_of(matches: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    results = matches.get("results")
    return [mapping(item) for item in results if isinstance(item, Mapping)] if isinstance(results, list) else []


def is_match(result: Mapping[str, Any], threshold: float) -> bool:
    """yente's own ``match`` flag, or the score against our threshold where the flag is missing."""
    flag = result.get("match")
    if isinstance(flag, bool):
        return flag
    score = number(result.get("score"))
    return score is not None and score >= threshold


def explanations(result: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Each feature's score and yente's detail, with the listed side's value (``candidate``). The ``query``
    side is the applicant's own data (their birth date is stored encrypted): it is never copied."""
    features: dict[str, dict[str, Any]] = {}
    for feature, raw in mapping(result.get("explanations")).items():
        entry = mapping(raw)
        features[str(feature)] = {
            "score": number(entry.get("score")),
            "detail": text(entry.get("detail")),
            **({"candidate": entry["candidate"]} if "candidate" in entry else {}),
        }
    return features


def hit_from(
    result: Mapping[str, Any], *, algorithm: str, versions: Mapping[str, str], origin: str = "match"
) -> AmlHitResult:
    properties = mapping(result.get("properties"))
    datasets = string_list(result.get("datasets"))
    last_change = text(result.get("last_change"))
    details: dict[str, Any] = {
        "schema": text(result.get("schema")),
        ENTITY_DIGEST: last_change[:64],
        "last_change": last_change,
        "first_seen": text(result.get("first_seen")),
        "last_seen": text(result.get("last_seen")),
        "target": bool(result.get("target")),
        "referents": string_list(result.get("referents")),
        "explanations": explanations(result),
        "algorithm": algorithm,
        "dataset_versions": {name: versions[name] for name in datasets if name in versions},
        "properties": {name: string_list(properties.get(name)) for name in EVIDENCE_PROPERTIES if properties.get(name)},
    }
    if origin != "match":
        details["found_by"] = origin
    return AmlHitResult(
        entity_id=text(result.get("id")),
        caption=text(result.get("caption")) or text(result.get("id")),
        score=number(result.get("score")),
        topics=tuple(string_list(properties.get("topics"))),
        datasets=tuple(datasets),
        details=details,
    )


def hits_from(
    results: Iterable[Mapping[str, Any]],
    *,
    threshold: float,
    algorithm: str,
    versions: Mapping[str, str],
    origin: str = "match",
) -> list[AmlHitResult]:
    """One hit per matching result with an id, in yente's order."""
    return [
        hit_from(result, algorithm=algorithm, versions=versions, origin=origin)
        for result in results
        if text(result.get("id")) and is_match(result, threshold)
    ]


def amended(results: Iterable[Mapping[str, Any]], watched: Mapping[str, str]) -> list[Mapping[str, Any]]:
    """The probe's results that are watched (excluded) entities, named by their id or a referent."""
    return [
        result for result in results if {text(result.get("id")), *string_list(result.get("referents"))} & set(watched)
    ]
