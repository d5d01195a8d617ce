"""Each provider's fake server and backend options, borrowed from its contract test class in
``tests/backends`` (imported as module attributes, so pytest does not collect the classes here again)."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django_kyc.models import Applicant
from django_kyc.testing import FakeProviderServer
from tests.backends import (
    test_allpass,
    test_argos,
    test_kycaid,
    test_onfido,
    test_passportreader,
    test_persona,
    test_provide,
    test_sumsub,
    test_veriff,
)
from tests.backends.contract import BackendContract

HOOKS: dict[str, type[BackendContract]] = {
    "provide": test_provide.TestProvideContract,
    "kycaid": test_kycaid.TestKycaidContract,
    "argos": test_argos.TestArgosContract,
    "passportreader": test_passportreader.TestPassportReaderContract,
    "allpass": test_allpass.TestAllpassContract,
    "onfido": test_onfido.TestOnfidoContract,
    "sumsub": test_sumsub.TestSumsubApiContract,
    "persona": test_persona.TestPersonaContract,
    "veriff": test_veriff.TestVeriffApiContract,
}


@contextmanager
def provider(name: str) -> Iterator[tuple[BackendContract, FakeProviderServer]]:
    """The fake server running and the backend configured as the contract's ``contract`` alias."""
    hooks = HOOKS[name]()
    with hooks.server_class(**hooks.server_kwargs()) as server:
        server.timeout_seconds = 1.5
        options = {**hooks.backend_options(server), "READ_TIMEOUT": 0.5, "CONNECT_TIMEOUT": 0.5}
        with hooks.configured(options):
            yield hooks, server


def new_applicant(make_applicant: Any, user: Any, last_name: str = "Smith") -> Applicant:
    applicant: Applicant = make_applicant(
        user=user, last_name=last_name, date_of_birth=datetime.date(1990, 2, 3), email="jane@example.com"
    )
    return applicant
