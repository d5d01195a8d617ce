"""The sandbox's last-name rules table (``NAME_RULES``) lists exactly what the sandbox acts on."""

from __future__ import annotations

from typing import Any

import pytest

from django_kyc.backends.registry import get_backend
from django_kyc.backends.sandbox import SandboxBackend, rules
from django_kyc.exceptions import ProviderError
from django_kyc.models import AmlCheck, Applicant, Verification


def behaviour(last_name: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, ...]:
    """Everything a last name can change: the decision, the submission (and its delivery), an AML screening."""
    scheduled: list[str] = []
    monkeypatch.setattr(
        SandboxBackend, "schedule_decision", lambda self, verification, chosen="": scheduled.append("x")
    )
    backend = get_backend("sandbox")
    applicant = Applicant(last_name=last_name)
    try:
        backend.start_verification(Verification(applicant=applicant, backend="sandbox", attempts=1))
        submission = f"submitted, {len(scheduled)} decision(s) scheduled"
    except ProviderError as exc:
        submission = type(exc).__name__
    screening = rules.screen(AmlCheck(applicant=applicant, subject="applicant"))
    return backend.outcome_for(applicant)[1], submission, [hit.entity_id for hit in screening.hits]


@pytest.mark.parametrize("rule", rules.NAME_RULES, ids=lambda rule: rule.keyword)
def test_every_listed_keyword_changes_what_the_sandbox_does(rule: rules.NameRule, monkeypatch: Any) -> None:
    assert behaviour("Smith", monkeypatch) == ("approved", "submitted, 1 decision(s) scheduled", [])
    assert behaviour(f"Smith-{rule.keyword.title()}", monkeypatch) != behaviour("Smith", monkeypatch)


def test_every_decision_keyword_is_listed() -> None:
    listed = {rule.keyword for rule in rules.NAME_RULES}
    assert {outcome[0] for outcome in SandboxBackend.OUTCOMES} <= listed
    assert {"pep", "sanction"} <= listed
