"""Re-screening through ARGOS (its fake server): with a monitoring worklist the applicant is enrolled in ARGOS's
ongoing monitoring instead of being screened again, at most once, and the enrolment is confirmed each interval."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from django_kyc.backends import get_backend
from django_kyc.backends.capabilities import Capability
from django_kyc.models import AmlCheck, Applicant
from django_kyc.services import aml, rescreening
from django_kyc.services.audit import Change
from django_kyc.status import AmlStatus, ApplicantStatus, Source
from django_kyc.testing.argos import FakeArgos
from tests.backends.contract import ALIAS
from tests.backends.test_argos import ADMIN, API_KEY, PROJECT_ID, ArgosContract, deliver, options_for, started

pytestmark = pytest.mark.django_db

T0 = datetime(2027, 7, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def fake() -> Iterator[FakeArgos]:
    with FakeArgos(api_key=API_KEY, project_id=PROJECT_ID, admin=ADMIN) as server:
        yield server


def approved_at_argos(fake: FakeArgos, applicant: Applicant, capture: Any, worklist: str | None) -> tuple[Any, str]:
    """The applicant verified on ARGOS's Liveform and approved there, then screened once at onboarding."""
    extra = {"AML_WORKLIST_ID": worklist} if worklist else {}
    configured = ArgosContract().configured(options_for(fake, **extra))
    configured.__enter__()
    verification = started(applicant)
    ref = fake.open_liveform(verification.client_link)
    fake.decide(ref, "approved")
    deliver(*fake.webhook_for(ref), capture)
    with capture(execute=True):
        aml.start_check(applicant, Change.system(Source.API), backend=ALIAS)
    applicant.refresh_from_db()
    assert applicant.status == ApplicantStatus.VERIFIED
    return configured, ref


def test_argos_with_a_worklist_enrols_instead_of_rescreening(
    fake: FakeArgos, make_applicant: Any, user: Any, django_capture_on_commit_callbacks: Any, time_machine: Any
) -> None:
    time_machine.move_to(T0, tick=False)
    applicant = make_applicant(user=user, email="jane@example.com")
    configured, ref = approved_at_argos(fake, applicant, django_capture_on_commit_callbacks, "wl-1")
    try:
        assert get_backend(ALIAS).supports(Capability.AML_MONITORING)
        assert fake.monitored == {"wl-1": [ref]}  # the onboarding screening enrolled the submission
        for year in (1, 2):
            time_machine.move_to(T0 + timedelta(days=365 * year), tick=False)
            fake.calls.clear()
            with django_capture_on_commit_callbacks(execute=True):
                run = rescreening.rescreen_due()
            assert (run.enrolled, run.screened) == (1, 0)
            assert not [call for call in fake.calls if call[0] == "POST"]  # already enrolled: not again
        enrolments = list(AmlCheck.objects.filter(applicant=applicant, check_type="ongoing").order_by("created_at"))
        assert [(c.backend, c.status, c.monitored) for c in enrolments] == [(ALIAS, AmlStatus.CLEAR, True)] * 2
        assert enrolments[-1].provider_data["monitoring"]["state"] == "enrolled"
        assert fake.monitored == {"wl-1": [ref]}
        # ARGOS dropped the record: the next interval enrols the submission again
        fake.records.clear()
        time_machine.move_to(T0 + timedelta(days=365 * 3), tick=False)
        with django_capture_on_commit_callbacks(execute=True):
            rescreening.rescreen_due()
        assert fake.monitored == {"wl-1": [ref, ref]}
    finally:
        configured.__exit__(None, None, None)


def test_argos_without_a_worklist_is_screened_again(
    fake: FakeArgos, make_applicant: Any, user: Any, django_capture_on_commit_callbacks: Any, time_machine: Any
) -> None:
    time_machine.move_to(T0, tick=False)
    applicant = make_applicant(user=user, email="jane@example.com")
    configured, _ref = approved_at_argos(fake, applicant, django_capture_on_commit_callbacks, None)
    try:
        assert not get_backend(ALIAS).supports(Capability.AML_MONITORING)
        time_machine.move_to(T0 + timedelta(days=365), tick=False)
        with django_capture_on_commit_callbacks(execute=True):
            run = rescreening.rescreen_due()
        assert (run.enrolled, run.screened) == (0, 1)
        check = AmlCheck.objects.get(applicant=applicant, check_type="rescreening")
        assert (check.backend, check.status, check.monitored) == (ALIAS, AmlStatus.CLEAR, False)
        assert fake.monitored == {}
    finally:
        configured.__exit__(None, None, None)
