"""The fake yente's index: a handful of FollowTheMoney entities in the shape ``/match`` returns them, the
catalog of datasets and collections they belong to, and the deterministic scoring the fake applies.

The people and companies are invented (no real person is named as sanctioned here); their shape is the real
one: multi-valued ``properties``, ``datasets``, ``referents`` (the source records a merged entity was built
from) and the ``first_seen`` / ``last_seen`` / ``last_change`` timestamps yente serialises without a zone.
"""

from __future__ import annotations

import copy
import difflib
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

#: Source datasets → their version, as ``GET /catalog`` reports each dataset's ``version``.
SOURCES: dict[str, str] = {
    "us_ofac_sdn": "20261201090512-ofc",
    "eu_fsf": "20261201061033-euf",
    "gb_fcdo_sanctions": "20261130183000-gbf",
    "un_sc_sanctions": "20261128120000-unc",
    "wd_peps": "20261201020202-wdp",
}
#: Collections (``{dataset}`` of ``/match/{dataset}``) → the source datasets they hold.
COLLECTIONS: dict[str, tuple[str, ...]] = {
    "default": tuple(SOURCES),
    "sanctions": ("us_ofac_sdn", "eu_fsf", "gb_fcdo_sanctions", "un_sc_sanctions"),
    "peps": ("wd_peps",),
}
#: The FtM schemata a query may use (the fake's subset) → the candidate schemata it is compared with.
SCHEMATA: dict[str, frozenset[str]] = {
    "Thing": frozenset({"Person", "Company", "Organization", "LegalEntity", "Vessel"}),
    "LegalEntity": frozenset({"Person", "Company", "Organization", "LegalEntity"}),
    "Person": frozenset({"Person", "LegalEntity"}),
    "Organization": frozenset({"Organization", "Company", "LegalEntity"}),
    "Company": frozenset({"Company", "Organization", "LegalEntity"}),
    "Vessel": frozenset({"Vessel"}),
}
#: Schemata FtM knows but yente refuses as a query ("Non-matchable schema for query").
UNMATCHABLE = frozenset({"Address", "Sanction", "Position", "Occupancy", "Ownership", "Directorship"})
#: The algorithm names yente 5 accepts (``best`` is an alias of ``BEST``); the fake scores them all alike.
ALGORITHMS = ("logic-v2", "ofac", "name-based", "name-qualified", "logic-v1", "regression-v1")
BEST = "logic-v2"


def _entity(
    entity_id: str,
    schema: str,
    caption: str,
    properties: dict[str, list[str]],
    datasets: list[str],
    referents: list[str],
    last_change: str,
) -> dict[str, Any]:
    return {
        "id": entity_id,
        "caption": caption,
        "schema": schema,
        "properties": properties,
        "datasets": datasets,
        "referents": referents,
        "target": True,
        "first_seen": "2022-03-01T08:00:00",
        "last_seen": "2026-12-01T09:05:12",
        "last_change": last_change,
    }


SEED: tuple[dict[str, Any], ...] = (
    _entity(
        "NK-fake-sokolov",
        "Person",
        "Ivan Petrovich Sokolov",
        {
            "name": ["Ivan Petrovich Sokolov"],
            "alias": ["Ivan Sokolov", "Иван Петрович Соколов"],
            "birthDate": ["1967-03-12"],
            "nationality": ["ru"],
            "topics": ["sanction"],
            "position": ["Director, Example Defence Holding"],
        },
        ["us_ofac_sdn", "eu_fsf"],
        ["ofac-90001", "eu-fsf-eu-9001-01"],
        "2026-06-01T10:00:00",
    ),
    _entity(
        "Q-fake-sokolov-pep",
        "Person",
        "Ivan Sokolov",
        {
            "name": ["Ivan Sokolov"],
            "birthDate": ["1985"],
            "nationality": ["ru"],
            "topics": ["role.pep"],
            "position": ["Member of a regional parliament"],
        },
        ["wd_peps"],
        ["wd-Q90002"],
        "2026-02-14T07:30:00",
    ),
    _entity(
        "NK-fake-vargas",
        "Person",
        "María Elena Vargas Ruiz",
        {
            "name": ["María Elena Vargas Ruiz"],
            "alias": ["Maria Vargas"],
            "birthDate": ["1971-11-30"],
            "nationality": ["ve"],
            "topics": ["sanction", "role.pep"],
        },
        ["us_ofac_sdn", "gb_fcdo_sanctions", "wd_peps"],
        ["ofac-90003", "gb-fcdo-VEN0099", "wd-Q90003"],
        "2025-11-20T12:00:00",
    ),
    _entity(
        "NK-fake-haddad",
        "Person",
        "Omar Khalil Haddad",
        {
            "name": ["Omar Khalil Haddad"],
            "alias": ["Abu Khalil"],
            "weakAlias": ["The Accountant"],
            "birthDate": ["1979"],
            "topics": ["sanction", "crime.terror"],
        },
        ["un_sc_sanctions", "eu_fsf"],
        ["unsc-QDi.999", "eu-fsf-eu-9004-01"],
        "2026-09-09T09:09:09",
    ),
    _entity(
        "NK-fake-sokol-trading",
        "Company",
        "Sokol Trading LLC",
        {
            "name": ["Sokol Trading LLC", "OOO Sokol Treiding"],
            "country": ["ru"],
            "jurisdiction": ["ru"],
            "topics": ["sanction"],
        },
        ["us_ofac_sdn"],
        ["ofac-90005"],
        "2026-03-03T03:03:03",
    ),
    _entity(
        "NK-fake-sokol-star",
        "Vessel",
        "SOKOL STAR",
        {"name": ["SOKOL STAR"], "imoNumber": ["IMO9999999"], "flag": ["ru"], "topics": ["sanction"]},
        ["us_ofac_sdn"],
        ["ofac-90006"],
        "2026-04-04T04:04:04",
    ),
)


def seed() -> dict[str, dict[str, Any]]:
    """A fresh copy of the seeded index, by entity id."""
    return {entity["id"]: copy.deepcopy(entity) for entity in SEED}


def catalog(datasets: Mapping[str, str]) -> dict[str, Any]:
    """``GET /catalog``: every source dataset with its ``version`` (indexed as current), and the collections."""
    entries: list[dict[str, Any]] = []
    for name, version in datasets.items():
        entries.append(
            {
                "name": name,
                "title": name.replace("_", " ").upper(),
                "version": version,
                "index_version": version,
                "index_current": True,
                "load": True,
                "children": [],
            }
        )
    for name, children in COLLECTIONS.items():
        entries.append(
            {
                "name": name,
                "title": name.title(),
                "version": max(datasets[child] for child in children),
                "index_version": None,
                "index_current": False,
                "load": False,
                "children": list(children),
            }
        )
    return {"datasets": entries, "current": list(datasets), "outdated": [], "index_stale": False}


# --- scoring ----------------------------------------------------------------------------------------------


def fold(value: str) -> str:
    """Lower case, accents dropped, punctuation as spaces: what the fake compares names on."""
    decomposed = unicodedata.normalize("NFKD", value)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join("".join(char if char.isalnum() else " " for char in plain.casefold()).split())


def name_similarity(query: str, candidate: str) -> float:
    """Token-order-free similarity of two names, 0 … 1 (sorted tokens, then a sequence ratio)."""
    left, right = sorted(fold(query).split()), sorted(fold(candidate).split())
    if not left or not right:
        return 0.0
    return difflib.SequenceMatcher(None, " ".join(left), " ".join(right)).ratio()


def _values(properties: Mapping[str, Any], *names: str) -> list[str]:
    found: list[str] = []
    for name in names:
        values = properties.get(name) or []
        found.extend(str(value) for value in (values if isinstance(values, list) else [values]) if value)
    return found


def score(query: Mapping[str, Any], entity: Mapping[str, Any]) -> tuple[float, dict[str, dict[str, Any]]]:
    """(score, explanations) of ``entity`` against the query's properties.

    The name decides (the best pairing of the query's names with the entity's names and aliases); a birth
    date or nationality that agrees adds a little, one that disagrees takes off more. Deterministic, so
    tests can state which entities a query finds."""
    wanted = query.get("properties") or {}
    properties = entity["properties"]
    names = _values(wanted, "name", "alias") or [" ".join(_values(wanted, "firstName", "middleName", "lastName"))]
    listed = _values(properties, "name", "alias", "weakAlias")
    best, pair = 0.0, ("", "")
    for name in names:
        for other in listed:
            similarity = name_similarity(name, other)
            if similarity > best:
                best, pair = similarity, (name, other)
    explanations = {
        "name_match": {"score": round(best, 4), "detail": "closest name pair", "query": pair[0], "candidate": pair[1]}
    }
    total = best
    total += _agreement(explanations, "dob_match", _values(wanted, "birthDate"), _values(properties, "birthDate"))
    places = ("nationality", "country", "citizenship")
    total += _agreement(explanations, "country_match", _values(wanted, *places), _values(properties, *places))
    return max(0.0, min(1.0, round(total, 4))), explanations


def _agreement(
    explanations: dict[str, dict[str, Any]], feature: str, ours: Sequence[str], theirs: Sequence[str]
) -> float:
    """+0.05 when a value agrees (a birth year agrees with a full date of that year), -0.4 when both sides
    have values and none agrees, 0 when a side has none."""
    if not ours or not theirs:
        return 0.0
    agree = any(_same(left, right) for left in ours for right in theirs)
    weight = 0.05 if agree else -0.4
    explanations[feature] = {
        "score": weight,
        "detail": "agrees" if agree else "disagrees",
        "query": ", ".join(ours),
        "candidate": ", ".join(theirs),
    }
    return weight


def _same(left: str, right: str) -> bool:
    left, right = left.strip().lower(), right.strip().lower()
    shorter = min(len(left), len(right))
    return bool(shorter) and left[:shorter] == right[:shorter]


def topics_of(entity: Mapping[str, Any]) -> set[str]:
    return set(_values(entity["properties"], "topics"))


def ids_of(entity: Mapping[str, Any]) -> set[str]:
    """The entity's id and its referents: yente excludes an entity named by either."""
    return {entity["id"], *entity.get("referents", ())}


def in_any(entity: Mapping[str, Any], datasets: Iterable[str]) -> bool:
    return bool(set(entity.get("datasets", ())) & set(datasets))
