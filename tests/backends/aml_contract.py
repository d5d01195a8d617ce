"""The contract a person-AML backend passes against its fake server (the verification contract in
:mod:`tests.backends.contract` is for backends that verify people; a screening-only backend has no
submission, hosted flow or webhooks to test).

A provider's test module subclasses :class:`AmlContract`, points it at its backend and fake server and says
which applicant the fake's data matches. Everything runs for real: the service starts the check, the task body
(:func:`django_kyc.services.aml.run_check`) calls the backend, the backend talks HTTP to the fake on loopback.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import pytest

from django_kyc.models import AmlCheck, Applicant
from django_kyc.services import aml
from django_kyc.services.audit import Change
from django_kyc.status import AmlStatus, Source
from django_kyc.testing import FakeProviderServer
from tests.backends.contract import ALIAS, TRANSIENT_FAULTS, ProviderFixtures

MAX_ATTEMPTS = 4


class AmlContract(ProviderFixtures):
    """Subclass in ``tests/backends/test_<provider>.py``: every test here then runs for that backend (configured
    under :data:`ALIAS`, with ``MAX_ATTEMPTS`` = 4)."""

    #: Applicant fields the fake's data matches, and fields it does not.
    MATCHING: ClassVar[Mapping[str, Any]]
    CLEAR: ClassVar[Mapping[str, Any]]
    #: the HTTP status the fake answers a refused request with
    PERMANENT_STATUS: ClassVar[int] = 400

    def wrong_credentials(self, options: dict[str, Any]) -> dict[str, Any] | None:
        """The same options with credentials the fake refuses; ``None`` when the provider has none."""
        return None

    def start(self, applicant: Applicant) -> AmlCheck:
        """The check as the API starts it, without its on-commit enqueue: the test plays the worker."""
        return aml.start_check(applicant, Change.system(Source.API), backend=ALIAS)

    @staticmethod
    def person(fields: Mapping[str, Any]) -> Applicant:
        return Applicant.objects.create(**fields)

    def run(self, check: AmlCheck) -> AmlCheck:
        aml.run_check(check.pk)
        check.refresh_from_db()
        return check

    # --- the contract ----------------------------------------------------------------------------------
    @pytest.mark.django_db
    def test_a_listed_person_is_a_potential_match_with_hits(self, server: FakeProviderServer, backend: None) -> None:
        check = self.run(self.start(self.person(self.MATCHING)))
        assert check.status == AmlStatus.POTENTIAL_MATCH, check.last_error
        assert check.hits.exists()
        assert all(hit.entity_id and hit.caption for hit in check.hits.all())
        assert check.screened_at is not None

    @pytest.mark.django_db
    def test_an_unlisted_person_is_clear(self, server: FakeProviderServer, backend: None) -> None:
        check = self.run(self.start(self.person(self.CLEAR)))
        assert check.status == AmlStatus.CLEAR, check.last_error
        assert not check.hits.exists()

    @pytest.mark.django_db
    @pytest.mark.parametrize("fault", TRANSIENT_FAULTS)
    def test_transient_failures_are_retried_with_growing_delays(
        self, server: FakeProviderServer, backend: None, fault: dict[str, Any], time_machine: Any
    ) -> None:
        from django.utils import timezone

        time_machine.move_to(timezone.now(), tick=False)
        server.fail_next(2, **fault)
        check = self.start(self.person(self.MATCHING))
        delays = []
        for attempt in (1, 2):
            check = self.run(check)
            assert (check.status, check.attempts) == (AmlStatus.PENDING, attempt)
            assert check.last_error
            assert check.next_attempt_at is not None
            delays.append((check.next_attempt_at - timezone.now()).total_seconds())
            time_machine.move_to(check.next_attempt_at, tick=False)
        assert 0 < delays[0] <= delays[1]
        check = self.run(check)
        assert check.status == AmlStatus.POTENTIAL_MATCH, check.last_error
        assert check.last_error == ""

    @pytest.mark.django_db
    def test_an_outage_that_outlasts_the_attempts_ends_in_error(
        self, server: FakeProviderServer, backend: None, time_machine: Any
    ) -> None:
        from django.utils import timezone

        time_machine.move_to(timezone.now(), tick=False)
        server.fail_next(MAX_ATTEMPTS, status=503, message="index rebuilding")
        check = self.start(self.person(self.MATCHING))
        for _ in range(MAX_ATTEMPTS):
            check = self.run(check)
            if check.next_attempt_at is not None:
                time_machine.move_to(check.next_attempt_at, tick=False)
        assert check.status == AmlStatus.ERROR
        assert check.attempts == MAX_ATTEMPTS
        assert "index rebuilding" in check.last_error
        assert check.next_attempt_at is None

    @pytest.mark.django_db
    def test_a_refusal_ends_in_error_at_once_with_the_providers_message(
        self, server: FakeProviderServer, backend: None
    ) -> None:
        server.fail_next(1, status=self.PERMANENT_STATUS, message="Injected rejection: field is invalid")
        check = self.run(self.start(self.person(self.MATCHING)))
        assert check.status == AmlStatus.ERROR
        assert check.attempts == 1
        assert "Injected rejection: field is invalid" in check.last_error

    @pytest.mark.django_db
    def test_wrong_credentials_are_a_permanent_error(self, server: FakeProviderServer, options: dict[str, Any]) -> None:
        wrong = self.wrong_credentials(options)
        if wrong is None:
            pytest.skip(f"{self.server_class.provider} takes no credentials")
        with self.configured(wrong):
            check = self.run(self.start(self.person(self.MATCHING)))
        assert check.status == AmlStatus.ERROR
        assert check.last_error
