"""yente, OpenSanctions' open-source screening API (https://github.com/opensanctions/yente), as a person AML
backend: the applicant is matched with ``POST /match/{dataset}`` and the results yente flags become hits, with
their explanations and the datasets' versions as evidence. Self-hosting, the data licence and every fact the
backend relies on: ``docs/providers/yente.md``.

The modules: :mod:`.options`, :mod:`.client` (the endpoints, yente's errors), :mod:`.query` (what is sent),
:mod:`.exclusions` (reviewers' dismissals as ``exclude_entity_ids``), :mod:`.results` (hits and evidence),
:mod:`.facts` (dataset versions), :mod:`.batch` (up to 100 screenings per call) and :mod:`.backend`.
``CLASS`` is ``django_kyc.backends.yente.YenteBackend``.
"""

from __future__ import annotations

from django_kyc.backends.yente.backend import YenteBackend
from django_kyc.backends.yente.batch import MAX_BATCH, screen_batch, screen_checks
from django_kyc.backends.yente.client import YenteClient, describe_error, yente_error_message
from django_kyc.backends.yente.exclusions import MAX_EXCLUDED, ExclusionPlan, plan_for
from django_kyc.backends.yente.query import match_params, person_query

__all__ = [
    "MAX_BATCH",
    "MAX_EXCLUDED",
    "ExclusionPlan",
    "YenteBackend",
    "YenteClient",
    "describe_error",
    "match_params",
    "person_query",
    "plan_for",
    "screen_batch",
    "screen_checks",
    "yente_error_message",
]
