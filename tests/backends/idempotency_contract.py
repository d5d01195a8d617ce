"""What a provider with an idempotency key on its create call must do, beside the shared contract.

Stripe and Persona store the first answer under the key and replay it: a lost answer is repeated under the same
key (no lookup, no second object), and a 5xx stored under it is never repeated (the next attempt looks up by our
reference, then creates under the next key). Mixed into a ``BackendContract`` subclass; its ``CREATE_CALL`` is
the create request, and the hooks below say where the backend keeps the key.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from django.utils import timezone

from django_kyc.models import Applicant, Verification
from django_kyc.services import submission
from django_kyc.status import VerificationStatus as V


class IdempotencyKeyContract:
    #: ``provider_data[IDEMPOTENCY_STATE]["key"]`` holds the key in use
    IDEMPOTENCY_STATE: ClassVar[str]
    #: the key of a verification's first attempt is ``f"{IDEMPOTENCY_KEY_PREFIX}{verification.pk}-1"``
    IDEMPOTENCY_KEY_PREFIX: ClassVar[str]
    CREATE_CALL: ClassVar[tuple[str, str]]
    start: Any

    def sent_idempotency_keys(self, server: Any) -> list[str] | None:
        """The keys the fake saw on the create calls, in order, if it records them."""
        return None

    def _attempt_twice(self, server: Any, applicant: Applicant, time_machine: Any, **fault: Any) -> Verification:
        time_machine.move_to(timezone.now(), tick=False)
        method, path = self.CREATE_CALL
        server.fail_next(1, method=method, path=path, **fault)
        verification: Verification = self.start(applicant)
        submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert verification.status == V.PENDING
        time_machine.move_to(verification.next_attempt_at, tick=False)
        submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert verification.status == V.AWAITING_USER, verification.last_error
        return verification

    @pytest.mark.django_db
    def test_lost_answer_is_replayed_under_the_same_idempotency_key(
        self, server: Any, backend: None, applicant: Applicant, time_machine: Any
    ) -> None:
        verification = self._attempt_twice(server, applicant, time_machine, kind="lost")
        key = verification.provider_data[self.IDEMPOTENCY_STATE]["key"]
        assert key == f"{self.IDEMPOTENCY_KEY_PREFIX}{verification.pk}-1"
        assert ("GET", self.CREATE_CALL[1]) not in server.calls  # the repeat reached the provider's stored answer
        assert [call for call in server.calls if call == self.CREATE_CALL] == [self.CREATE_CALL] * 2
        assert self.sent_idempotency_keys(server) in (None, [key, key])
        assert server.applicant_count() == 1

    @pytest.mark.django_db
    def test_a_5xx_is_never_repeated_under_its_key(
        self, server: Any, backend: None, applicant: Applicant, time_machine: Any
    ) -> None:
        """The provider stores a 500 under the key and would replay it: the next attempt looks up, then uses
        a new key."""
        verification = self._attempt_twice(server, applicant, time_machine, status=500)
        assert verification.provider_data[self.IDEMPOTENCY_STATE]["key"].endswith("-2")
        assert ("GET", self.CREATE_CALL[1]) in server.calls
        assert server.applicant_count() == 1
