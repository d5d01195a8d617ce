"""What yente says about itself that a hit's evidence records: each dataset's version (``GET /catalog``) and
the algorithm ``best`` stands for (``GET /algorithms``). ``/match`` answers carry neither.

Read at most every five minutes per backend instance (yente's own ``Cache-Control`` on ``/catalog``), and
leniently: when either call fails, the screening goes on and its record says the versions are unknown (a
screening is not worth failing over its evidence's footnote).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django_kyc.backends.parsing import mapping, text
from django_kyc.exceptions import ProviderError

logger = logging.getLogger("django_kyc.yente")

#: Seconds the facts are reused (yente answers ``/catalog`` with ``Cache-Control: public, max-age=300``).
FACTS_TTL = 300.0


@dataclass(frozen=True)
class ServiceFacts:
    versions: dict[str, str] = field(default_factory=dict)
    best_algorithm: str = ""
    error: str = ""

    def algorithm(self, requested: str) -> str:
        """The algorithm that ran: ``best`` resolved when yente said what it stands for."""
        name = requested.strip().lower()
        return self.best_algorithm if name == "best" and self.best_algorithm else name


def read_versions(catalog: Any) -> dict[str, str]:
    """Dataset name → ``version`` from ``GET /catalog`` (entries without both are skipped)."""
    versions: dict[str, str] = {}
    for entry in mapping(catalog).get("datasets") or []:
        name, version = text(mapping(entry).get("name")), text(mapping(entry).get("version"))
        if name and version:
            versions[name] = version
    return versions


class FactsCache:
    """The last :class:`ServiceFacts` and when they were read; one per backend instance."""

    def __init__(self, ttl: float = FACTS_TTL) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._facts: ServiceFacts | None = None
        self._read_at = 0.0

    def get(self, catalog: Callable[[], Any], algorithms: Callable[[], Any]) -> ServiceFacts:
        with self._lock:
            if self._facts is not None and time.monotonic() - self._read_at < self.ttl:
                return self._facts
        try:
            facts = ServiceFacts(
                versions=read_versions(catalog()), best_algorithm=text(mapping(algorithms()).get("best"))
            )
        except ProviderError as exc:
            logger.warning("yente: dataset versions unavailable (%s)", type(exc).__name__)
            return ServiceFacts(error=f"dataset versions unavailable: {exc.message}"[:300])
        with self._lock:
            self._facts, self._read_at = facts, time.monotonic()
        return facts
