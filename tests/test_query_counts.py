"""Every API endpoint and admin page that lists rows costs the same number of queries with 10 rows behind it
as with 1,000, and at most 10 (session, user and permission queries included).

The pages, roles and bulk seeding are in ``tests/support/query_counts.py``, shared with ``bench/queries.py``, which
prints these measurements as a table (``python -m bench.queries``). Each page is seeded once and requested as
each of its roles; a failure prints, per role, the SQL of both runs with the statements repeated most first,
so an N+1 names itself.
"""

from __future__ import annotations

import pytest
from django.contrib import admin

from tests.support.query_counts import ENDPOINTS, Endpoint, measure


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[endpoint.slug for endpoint in ENDPOINTS])
def test_queries_do_not_grow_with_rows(endpoint: Endpoint) -> None:
    failures = [result for result in measure(endpoint) if result.problems()]
    assert not failures, "\n\n".join(result.explain() for result in failures)


def test_every_django_kyc_changelist_is_measured() -> None:
    """A model admin added later is measured too, or this fails until it is added to ``ENDPOINTS``."""
    registered = {model for model in admin.site._registry if model._meta.app_label == "django_kyc"}
    measured = {endpoint.changelist_of for endpoint in ENDPOINTS if endpoint.changelist_of is not None}
    assert registered == measured, f"not measured: {registered - measured}; not registered: {measured - registered}"
