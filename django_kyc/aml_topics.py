"""What an AML hit's topics mean: a label a reviewer reads ("PEP", not ``role.pep``) and the risk a match on
that list implies.

Providers name topics their own way: OpenSanctions-style dotted codes (``role.pep``, ``sanction.linked``),
short codes (``SAN``, ``PEP``), crypto categories (``mixer``, ``dark_market``). A topic is looked up as it is,
then by its dotted prefixes, then by each part, so ``role.pep`` and ``PEP`` both read as "PEP" (the same
matching the four-eyes rule applies to ``FOUR_EYES_AML_TOPICS``). An unknown topic keeps its code as label and
implies no risk of its own.

A potential match on a sanctions or PEP list is high risk whatever the applicant's own level says: that level
is set before screening, and reading it back as the hit's risk showed a PEP match as "Low".
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from django_kyc.status import RiskLevel


@dataclass(frozen=True)
class Topic:
    label: str | Promise
    risk: RiskLevel


_SANCTION = Topic(_("Sanction"), RiskLevel.HIGH)
_PEP = Topic(_("PEP"), RiskLevel.HIGH)
_ADVERSE_MEDIA = Topic(_("Adverse media"), RiskLevel.MEDIUM)

#: Known topics by lower-case code.
TOPICS: dict[str, Topic] = {
    "sanction": _SANCTION,
    "san": _SANCTION,
    "sanction.linked": Topic(_("Linked to a sanctioned party"), RiskLevel.HIGH),
    "sanction.counter": Topic(_("Counter-sanctions"), RiskLevel.MEDIUM),
    "pep": _PEP,
    "role.pep": _PEP,
    "rca": Topic(_("PEP relative or close associate"), RiskLevel.HIGH),
    "role.rca": Topic(_("PEP relative or close associate"), RiskLevel.HIGH),
    "crime": Topic(_("Crime"), RiskLevel.HIGH),
    "crime.fin": Topic(_("Financial crime"), RiskLevel.HIGH),
    "crime.terror": Topic(_("Terrorism"), RiskLevel.HIGH),
    "role.terror": Topic(_("Terrorism"), RiskLevel.HIGH),
    "wanted": Topic(_("Wanted"), RiskLevel.HIGH),
    "am": _ADVERSE_MEDIA,
    "adverse_media": _ADVERSE_MEDIA,
    "media": _ADVERSE_MEDIA,
    "debarment": Topic(_("Debarment"), RiskLevel.MEDIUM),
    "poi": Topic(_("Person of interest"), RiskLevel.MEDIUM),
    "reg.action": Topic(_("Regulatory action"), RiskLevel.MEDIUM),
    "reg.warn": Topic(_("Regulatory warning"), RiskLevel.MEDIUM),
    "export.control": Topic(_("Export control"), RiskLevel.MEDIUM),
    "watchlist": Topic(_("Watchlist"), RiskLevel.MEDIUM),
    "dark_market": Topic(_("Darknet market"), RiskLevel.HIGH),
    "mixer": Topic(_("Coin mixer"), RiskLevel.MEDIUM),
    "crypto_risk": Topic(_("Risky crypto activity"), RiskLevel.MEDIUM),
    "exchange": Topic(_("Exchange"), RiskLevel.LOW),
}


def _candidates(code: str) -> Iterator[str]:
    """``role.pep`` → ``role.pep``, ``role``, ``pep``: the most specific spelling first."""
    parts = code.split(".")
    for end in range(len(parts), 0, -1):
        yield ".".join(parts[:end])
    yield from parts[1:]


def lookup(code: Any) -> Topic | None:
    """The known topic ``code`` names, or ``None``."""
    for candidate in _candidates(str(code).strip().lower()):
        if candidate in TOPICS:
            return TOPICS[candidate]
    return None


def label(code: Any) -> str:
    """The reviewer's word for a topic; an unknown one as the provider wrote it."""
    topic = lookup(code)
    return str(topic.label) if topic is not None else str(code)


def labels(codes: Iterable[Any] | None) -> list[str]:
    """Each topic's label once, in the order given."""
    return list(dict.fromkeys(label(code) for code in codes or ()))


def most_severe(levels: Iterable[str | None]) -> RiskLevel:
    """The most severe of ``levels`` (values of :class:`RiskLevel`, any case; others are ignored), or low."""
    known = [RiskLevel(level.lower()) for level in levels if level and level.lower() in RiskLevel.values]
    return max(known, key=RiskLevel.values.index, default=RiskLevel.LOW)


def hit_risk(topics: Iterable[Any] | None, *levels: str | None) -> RiskLevel:
    """A hit's risk: the most severe of what its topics imply and the ``levels`` given (the applicant's own
    level, the provider's level for the screening or the match)."""
    implied = [topic.risk for topic in map(lookup, topics or ()) if topic is not None]
    return most_severe([*implied, *levels])
