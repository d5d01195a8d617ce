"""Screening many applicants at once with yente: batches of at most 100 queries, keyed by check and read back
by key; applicants with dismissals on their own (``exclude_entity_ids`` applies to a whole request)."""

from __future__ import annotations

import pytest

from django_kyc.backends.yente import screen_checks
from django_kyc.exceptions import PermanentProviderError, TransientProviderError
from django_kyc.models import ScreeningDismissal
from django_kyc.services import dismissals
from django_kyc.status import AmlStatus
from django_kyc.testing.yente import FakeYente
from tests.backends.contract import ALIAS
from tests.backends.test_yente import SOKOLOV, YenteHooks, many_applicants, unstarted_check, yente


class TestYenteBatch(YenteHooks):
    @pytest.mark.django_db
    def test_checks_are_split_into_batches_of_100_and_read_back_by_key(self, server: FakeYente, backend: None) -> None:
        checks = [unstarted_check(applicant) for applicant in many_applicants(249)]
        listed = unstarted_check(self.person(SOKOLOV))
        checks.insert(137, listed)
        outcomes = screen_checks(yente(), checks)
        assert [len(sent["body"]["queries"]) for sent in server.match_requests] == [100, 100, 50]
        assert set(outcomes) == {str(check.pk) for check in checks}
        assert list(server.match_requests[1]["body"]["queries"])[37] == str(listed.pk)
        flagged = {
            key for key, outcome in outcomes.items() if getattr(outcome, "status", "") == AmlStatus.POTENTIAL_MATCH
        }
        assert flagged == {str(listed.pk)}
        assert outcomes[str(listed.pk)].hits[0].entity_id == "NK-fake-sokolov"  # type: ignore[union-attr]

    @pytest.mark.django_db
    def test_a_smaller_batch_size_and_a_failed_batch(self, server: FakeYente, backend: None) -> None:
        checks = [unstarted_check(applicant) for applicant in many_applicants(5)]
        server.fail_next(1, status=503, path="/match/default")
        outcomes = screen_checks(yente(), checks, batch_size=2)
        assert [call for call in server.calls if call[0] == "POST"] == [("POST", "/match/default")] * 3
        # the first batch's answer was the injected 503 (never handled); the other two were answered
        assert [len(sent["body"]["queries"]) for sent in server.match_requests] == [2, 1]
        failed = [key for key, outcome in outcomes.items() if isinstance(outcome, TransientProviderError)]
        assert failed == [str(check.pk) for check in checks[:2]]

    @pytest.mark.django_db
    def test_an_applicant_with_dismissals_is_screened_alone_and_one_without_a_name_fails_alone(
        self, server: FakeYente, backend: None
    ) -> None:
        remembered = self.person(SOKOLOV)
        ScreeningDismissal.objects.create(
            applicant=remembered,
            backend=ALIAS,
            entity_id="NK-fake-sokolov",
            entity_digest="",
            applicant_digest=dismissals.applicant_digest(remembered),
        )
        nameless = unstarted_check(self.person({"nationality": "RU"}))
        others = [unstarted_check(applicant) for applicant in many_applicants(3)]
        alone = unstarted_check(remembered)
        outcomes = screen_checks(yente(), [nameless, alone, *others])
        assert isinstance(outcomes[str(nameless.pk)], PermanentProviderError)
        single, batch = server.match_requests
        assert list(single["body"]["queries"]) == [str(alone.pk)]
        assert single["params"]["exclude_entity_ids"] == ["NK-fake-sokolov"]
        assert list(batch["body"]["queries"]) == [str(check.pk) for check in others]
        assert "exclude_entity_ids" not in batch["params"]
        assert outcomes[str(alone.pk)].status == AmlStatus.CLEAR  # type: ignore[union-attr]
