"""Many screenings in few calls: ``/match`` takes up to 100 queries per request, keyed by the caller and
echoed back (``docs/providers/yente.md``, "Batches").

A public helper, not wired into the re-screening job: that job starts one AML check per applicant through the
ordinary task (lease, retries, audit), and batching it would mean a second way to run a check. A site that
screens a population at once (an initial back-book screening, say) calls :func:`screen_checks` and applies
each result with :func:`django_kyc.services.aml.apply_result`.

``exclude_entity_ids`` applies to a whole request, so it cannot carry one person's dismissals in a batch of
many: a check whose applicant has dismissals still holding is screened on its own (:meth:`YenteBackend.screen`,
with its exclusions and probe), the rest in batches.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from django_kyc.backends.values import AmlResult
from django_kyc.backends.yente.exclusions import dismissals_for
from django_kyc.backends.yente.query import match_params, person_query
from django_kyc.backends.yente.results import matches_of
from django_kyc.exceptions import ProviderError

if TYPE_CHECKING:
    from django_kyc.backends.yente.backend import YenteBackend
    from django_kyc.models import AmlCheck

#: yente's ``YENTE_MAX_BATCH``: more queries in one request are refused with a 400.
MAX_BATCH = 100

Outcome = AmlResult | ProviderError


def screen_checks(
    backend: YenteBackend, checks: Iterable[AmlCheck], *, batch_size: int = MAX_BATCH
) -> dict[str, Outcome]:
    """Check id (as a string) → its :class:`AmlResult`, or the :class:`ProviderError` that stopped it (a
    failed request fails every check of its batch; a person yente cannot screen fails alone)."""
    size = max(1, min(MAX_BATCH, batch_size))
    outcomes: dict[str, Outcome] = {}
    pending: dict[str, dict[str, Any]] = {}
    for check in checks:
        key = str(check.pk)
        try:
            backend.check_aml_subject(check)
            if dismissals_for(check.applicant, backend.alias):
                outcomes[key] = backend.screen(check)
            else:
                pending[key] = person_query(check.applicant)
        except ProviderError as exc:
            outcomes[key] = exc
    keys = list(pending)
    for start in range(0, len(keys), size):
        outcomes.update(screen_batch(backend, {key: pending[key] for key in keys[start : start + size]}))
    return outcomes


def screen_batch(backend: YenteBackend, queries: Mapping[str, Mapping[str, Any]]) -> dict[str, Outcome]:
    """One ``/match`` request for at most :data:`MAX_BATCH` queries (no exclusions), read per key."""
    limit = int(backend.option("LIMIT"))
    try:
        answer = backend.client.match(
            str(backend.option("DATASET")), queries, match_params(backend.config, limit=limit)
        )
    except ProviderError as exc:
        return dict.fromkeys(queries, exc)
    outcomes: dict[str, Outcome] = {}
    for key in queries:
        try:
            outcomes[key] = backend.result_from(matches_of(answer, key), limit=limit)
        except ProviderError as exc:
            outcomes[key] = exc
    return outcomes
