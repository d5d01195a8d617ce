from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import override_settings

from tests.support import django_onfido
from tests.support.kyc_settings import kyc_settings_with, suite_backends

ONFIDO = "django_kyc.backends.onfido.OnfidoBackend"
#: ``onfido`` is the command's default alias; the import never calls Onfido, so no fake server is needed.
ONFIDO_BACKENDS = {
    "onfido": {"CLASS": ONFIDO, "OPTIONS": {"API_TOKEN": "test-onfido-token", "MODE": "api"}},
    "onfido_sdk": {
        "CLASS": ONFIDO,
        "OPTIONS": {"API_TOKEN": "test-onfido-token", "MODE": "sdk", "CONSIDER": "decline"},
    },
    "onfido_studio": {"CLASS": ONFIDO, "OPTIONS": {"API_TOKEN": "test-onfido-token", "WORKFLOW_ID": "wf"}},
}


@pytest.fixture(scope="module")
def _django_onfido_installed(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    """Once per test module: migrating django-onfido's 19 migrations takes longer than most tests. Between
    the tests, the transactional tests' flush empties its tables with the others."""
    with django_db_blocker.unblock(), django_onfido.installed():
        yield


@pytest.fixture
def onfido_tables(_django_onfido_installed: None, transactional_db: Any) -> Iterator[None]:
    """django-onfido installed and migrated, and Onfido backend aliases to import under."""
    backends = suite_backends(**ONFIDO_BACKENDS)
    with override_settings(DJANGO_KYC=kyc_settings_with(BACKENDS=backends)):
        yield
