"""AML screening: the sandbox's match rules, hits, retries and permanent failures."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone

from django_kyc.backends.base import AmlResult, KycBackend
from django_kyc.exceptions import PermanentProviderError, TransientProviderError, UnsupportedFeature
from django_kyc.models import AmlCheck, AmlHit, Applicant, AuditEvent
from django_kyc.services import aml, sweeper
from django_kyc.services.audit import Change
from django_kyc.status import AmlStatus, Source
from tests.support.kyc_settings import kyc_settings_with, suite_backends

pytestmark = pytest.mark.django_db


class ScreeningBackend(KycBackend):
    """Screens with whatever ``OPTIONS["SCREEN"]`` (a callable) does."""

    provider = "screening"
    capabilities = frozenset({"aml"})

    def screen(self, aml_check: AmlCheck) -> AmlResult:
        screen: Callable[[AmlCheck], AmlResult] = self.options["SCREEN"]
        return screen(aml_check)


class BareBackend(KycBackend):
    """No capabilities at all."""


def screening(screen: Callable[[AmlCheck], AmlResult]) -> override_settings:
    """Settings with a ``screening`` alias whose provider does what ``screen`` does (and two attempts)."""
    backends = suite_backends(screening={"CLASS": f"{__name__}.ScreeningBackend", "OPTIONS": {"SCREEN": screen}})
    return override_settings(DJANGO_KYC=kyc_settings_with(BACKENDS=backends, MAX_ATTEMPTS=2))


def start(applicant: Applicant, backend: str | None = None) -> AmlCheck:
    return aml.start_check(applicant, Change.system(Source.API), backend=backend)


@pytest.mark.parametrize(
    ("last_name", "status", "entities"),
    [
        ("Smith", AmlStatus.CLEAR, []),
        ("Peploe", AmlStatus.POTENTIAL_MATCH, ["sbx-pep-1"]),
        ("Sanctionova-Pepper", AmlStatus.POTENTIAL_MATCH, ["sbx-pep-1", "sbx-sanction-1"]),
    ],
)
def test_sandbox_screening_rules(
    make_applicant: Any, django_capture_on_commit_callbacks: Any, last_name: str, status: str, entities: list[str]
) -> None:
    applicant = make_applicant(last_name=last_name)
    with django_capture_on_commit_callbacks(execute=True):
        check = start(applicant)
    check.refresh_from_db()
    assert check.status == status
    assert check.attempts == 1
    assert check.screened_at is not None
    assert check.provider_check_id.startswith("sbx_aml_")
    assert sorted(AmlHit.objects.filter(aml_check=check).values_list("entity_id", flat=True)) == entities
    moves = list(
        AuditEvent.objects.filter(object_type="amlcheck")
        .order_by("id")
        .values_list("action", "from_status", "to_status")
    )
    assert moves == [("created", "", AmlStatus.PENDING), ("status_change", AmlStatus.PENDING, status)]


def test_screening_needs_the_capability(make_applicant: Any) -> None:
    applicant = make_applicant()
    backends = suite_backends(bare={"CLASS": f"{__name__}.BareBackend"})
    with (
        override_settings(DJANGO_KYC=kyc_settings_with(BACKENDS=backends)),
        pytest.raises(UnsupportedFeature, match="'bare' backend does not support AML screening"),
    ):
        start(applicant, backend="bare")
    assert not AmlCheck.objects.exists()


def test_transient_failure_backs_off_then_gives_up(make_applicant: Any, time_machine: Any) -> None:
    time_machine.move_to(timezone.now(), tick=False)
    calls: list[str] = []

    def screen(check: AmlCheck) -> AmlResult:
        calls.append(str(check.pk))
        raise TransientProviderError("upstream busy", provider="screening", status_code=503)

    with screening(screen):
        check = start(make_applicant(), backend="screening")
        aml.run_check(check.pk)
        check.refresh_from_db()
        assert (check.status, check.attempts) == (AmlStatus.PENDING, 1)
        assert check.last_error == "screening: upstream busy (HTTP 503)"
        assert check.next_attempt_at is not None
        assert check.next_attempt_at > timezone.now()
        assert sweeper.sweep().aml_checks == 0

        time_machine.move_to(check.next_attempt_at, tick=False)
        assert sweeper.sweep().aml_checks == 1
    check.refresh_from_db()
    assert (check.status, check.attempts) == (AmlStatus.ERROR, 2)
    assert check.last_error == "screening: upstream busy (HTTP 503)"
    assert check.next_attempt_at is None
    assert len(calls) == 2


def test_permanent_failure_is_an_error_at_once(make_applicant: Any) -> None:
    def screen(check: AmlCheck) -> AmlResult:
        raise PermanentProviderError("unknown country", provider="screening", status_code=400)

    with screening(screen):
        check = start(make_applicant(), backend="screening")
        aml.run_check(check.pk)
    check.refresh_from_db()
    assert (check.status, check.attempts) == (AmlStatus.ERROR, 1)
    assert check.last_error == "screening: unknown country (HTTP 400)"
    assert check.next_attempt_at is None


def test_a_second_run_while_the_first_is_in_flight_does_nothing(make_applicant: Any) -> None:
    """The sweeper may enqueue a check again while a worker is still screening it (no lease = two screenings,
    and the second one's transition fails the task)."""
    calls: list[str] = []

    def screen(check: AmlCheck) -> AmlResult:
        calls.append(str(check.pk))
        if len(calls) == 1:
            aml.run_check(check.pk)  # the concurrent run, arriving mid-call
        return AmlResult(status=AmlStatus.CLEAR, provider_status="no_match")

    with screening(screen):
        check = start(make_applicant(), backend="screening")
        aml.run_check(check.pk)
    check.refresh_from_db()
    assert check.status == AmlStatus.CLEAR
    assert check.next_attempt_at is None
    assert calls == [str(check.pk)]


def test_crashed_screening_is_picked_up_after_its_lease(make_applicant: Any, time_machine: Any) -> None:
    time_machine.move_to(timezone.now(), tick=False)

    class Crash(BaseException):
        pass

    outcomes: list[Any] = [Crash, AmlResult(status=AmlStatus.CLEAR, provider_status="no_match")]

    def screen(check: AmlCheck) -> AmlResult:
        outcome = outcomes.pop(0)
        if outcome is Crash:
            raise Crash
        result: AmlResult = outcome
        return result

    with screening(screen):
        check = start(make_applicant(), backend="screening")
        with pytest.raises(Crash):
            aml.run_check(check.pk)
        assert sweeper.sweep().aml_checks == 0
        time_machine.move_to(timezone.now() + timedelta(minutes=2), tick=False)
        assert sweeper.sweep().aml_checks == 1
    check.refresh_from_db()
    assert (check.status, check.attempts) == (AmlStatus.CLEAR, 2)


def test_unexpected_failure_backs_off_like_an_outage(make_applicant: Any) -> None:
    def screen(check: AmlCheck) -> AmlResult:
        raise KeyError("hits")

    with screening(screen):
        check = start(make_applicant(), backend="screening")
        aml.run_check(check.pk)
    check.refresh_from_db()
    assert (check.status, check.attempts) == (AmlStatus.PENDING, 1)
    assert check.last_error == "unexpected error: KeyError"
    assert check.next_attempt_at is not None
