"""A fake yente (OpenSanctions' screening API) on loopback, for tests and the demo.

It speaks yente's ``POST /match/{dataset}`` as yente 5 does (``docs/providers/yente.md``, "The fake yente"):
batches of at most 100 queries keyed by the caller and echoed back, ``limit`` / ``threshold`` / ``algorithm``
/ ``topics`` / ``include_dataset`` / ``exclude_dataset`` / ``exclude_schema`` / ``changed_since`` /
``exclude_entity_ids`` (at most 50), results in yente's shape (``score``, ``match``, ``explanations``,
``datasets``, ``referents``, ``last_change``) and yente's errors: FastAPI's 422 for a malformed request, 400
and 404 with ``{"detail": "…"}`` from the handler. ``GET /algorithms``, ``GET /catalog`` (dataset versions),
``GET /healthz`` and ``GET /readyz`` answer too. A few invented entities are seeded
(:mod:`.entities`); scoring is a simple deterministic name comparison, with birth date and nationality as
supporting or contradicting evidence.

Use it in your own tests::

    with FakeYente() as yente:
        ...  # OPTIONS: {"BASE_URL": yente.base_url}
        yente.amend("NK-fake-sokolov", birthDate=["1967-03-13"])  # an amended listing
        assert yente.match_requests[-1]["params"]["limit"] == ["10"]

or from the command line (``--option api_key=…`` makes it ask for ``Authorization: ApiKey …`` as the hosted
API does)::

    python -m django_kyc.testing yente --port 8120
"""

from __future__ import annotations

from django_kyc.testing.yente.api import MAX_BATCH, MAX_EXCLUDED, FakeYenteApi
from django_kyc.testing.yente.entities import ALGORITHMS, COLLECTIONS, SEED, SOURCES
from django_kyc.testing.yente.server import FakeYente

SERVER = FakeYente

__all__ = [
    "ALGORITHMS",
    "COLLECTIONS",
    "MAX_BATCH",
    "MAX_EXCLUDED",
    "SEED",
    "SERVER",
    "SOURCES",
    "FakeYente",
    "FakeYenteApi",
]
