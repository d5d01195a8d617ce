"""The reviewers' false-positive memory with yente: dismissed entities are excluded at yente (at most 50 a
request, the rest filtered here with ``limit`` raised by their number), and an excluded entity amended since
its dismissal is found by the ``changed_since`` probe and raised again."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from django_kyc.backends.yente import ExclusionPlan, plan_for
from django_kyc.models import AmlHit, ScreeningDismissal
from django_kyc.services import dismissals, review
from django_kyc.status import AmlStatus
from django_kyc.testing.yente import FakeYente
from tests.backends.contract import ALIAS
from tests.backends.test_yente import SOKOLOV, YenteHooks

SANCTIONED = "NK-fake-sokolov"


class TestYenteDismissals(YenteHooks):
    def dismiss(self, check: Any, reviewer: Any) -> None:
        decided = review.decide_hit(check.hits.get().pk, "false_positive", user=reviewer, reason_code="OTHER")
        assert isinstance(decided, AmlHit), decided

    @pytest.mark.django_db
    def test_a_dismissed_entity_is_excluded_at_yente_until_it_is_amended(
        self, server: FakeYente, backend: None, reviewer: Any
    ) -> None:
        applicant = self.person(SOKOLOV)
        first = self.run(self.start(applicant))
        assert first.status == AmlStatus.POTENTIAL_MATCH
        digest = first.hits.get().details["entity_digest"]
        self.dismiss(first, reviewer)

        again = self.run(self.start(applicant))
        assert again.status == AmlStatus.CLEAR, again.last_error
        main, probe = server.match_requests[-2:]
        assert main["params"]["exclude_entity_ids"] == [SANCTIONED]
        assert main["params"]["limit"] == ["10"]
        # the probe: the same person, nothing excluded, only what changed since the dismissed digest
        assert "exclude_entity_ids" not in probe["params"]
        assert probe["params"]["changed_since"] == [digest]
        assert probe["body"] == main["body"]
        assert again.provider_data["excluded_entity_ids"] == [SANCTIONED]

        amended_at = server.amend(SANCTIONED, position=["Chairman, Example Defence Holding"])
        raised = self.run(self.start(applicant))
        assert raised.status == AmlStatus.POTENTIAL_MATCH, raised.last_error
        hit = raised.hits.get()
        assert (hit.entity_id, hit.details["entity_digest"], hit.details["found_by"]) == (
            SANCTIONED,
            amended_at,
            "changed_since",
        )
        assert raised.provider_data["amended_since_dismissal"] == [SANCTIONED]

    @pytest.mark.django_db
    def test_a_change_of_the_applicant_ends_the_dismissal(
        self, server: FakeYente, backend: None, reviewer: Any
    ) -> None:
        applicant = self.person(SOKOLOV)
        self.dismiss(self.run(self.start(applicant)), reviewer)
        applicant.middle_name = ""
        applicant.save()
        check = self.run(self.start(applicant))
        assert check.status == AmlStatus.POTENTIAL_MATCH
        assert "exclude_entity_ids" not in server.match_requests[-1]["params"]

    @pytest.mark.django_db
    def test_at_most_50_are_excluded_and_the_rest_are_filtered_with_a_raised_limit(
        self, server: FakeYente, backend: None, time_machine: Any
    ) -> None:
        applicant = self.person(SOKOLOV)
        held = dismissals.applicant_digest(applicant)
        start = timezone.now() - datetime.timedelta(days=100)
        # the oldest dismissal is the real listed entity (with its current digest): it is among those not sent
        rows = [(SANCTIONED, server.entity(SANCTIONED)["last_change"])]
        rows += [(f"NK-other-{index:02d}", "") for index in range(59)]
        for offset, (entity_id, digest) in enumerate(rows):
            time_machine.move_to(start + datetime.timedelta(hours=offset), tick=False)
            ScreeningDismissal.objects.create(
                applicant=applicant,
                backend=ALIAS,
                entity_id=entity_id,
                entity_digest=digest,
                applicant_digest=held,
            )
        time_machine.move_to(timezone.now() + datetime.timedelta(days=200), tick=False)
        check = self.run(self.start(applicant))
        (sent,) = server.match_requests  # nothing excluded has a digest to watch: no probe
        excluded = sent["params"]["exclude_entity_ids"]
        assert excluded == [f"NK-other-{index:02d}" for index in range(58, 8, -1)]  # the 50 newest
        assert sent["params"]["limit"] == ["20"]  # 10 + the 10 not excluded
        assert check.status == AmlStatus.CLEAR, check.last_error
        assert check.provider_data["dismissed_matches"] == [SANCTIONED]
        assert check.provider_data["dismissed_not_excluded"] == 10


def test_the_plan_excludes_only_what_a_change_could_be_seen_in() -> None:
    dismissed = [
        ("a", "2026-06-01T10:00:00"),
        ("b", ""),
        ("c", "v3-not-a-timestamp"),
        ("d", "2025-01-01T00:00:00.123456"),
    ]
    plan = plan_for(dismissed)
    assert plan == ExclusionPlan(
        excluded=("a", "b", "d"), left_over=1, watched={"a": "2026-06-01T10:00:00", "d": "2025-01-01T00:00:00"}
    )
    assert plan.changed_since == "2025-01-01T00:00:00"
    assert plan_for([]) == ExclusionPlan()
