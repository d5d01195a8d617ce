"""The audit writer: one module, a closed list of actions, append-only rows."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from django_kyc.models import Applicant, AuditEvent
from django_kyc.services.audit import Change, audit, audit_many, decision_reason
from django_kyc.status import AuditAction, Source, VerificationStatus
from tests.support.factories import make_verification

pytestmark = pytest.mark.django_db
PACKAGE = Path(__file__).resolve().parents[2] / "django_kyc"


def test_an_action_outside_the_list_is_refused(make_applicant: Callable[..., Applicant]) -> None:
    applicant = make_applicant()
    with pytest.raises(ValueError, match="unknown audit action 'looked_at'"):
        audit(Change.system(), obj=applicant, applicant_id=applicant.pk, action="looked_at")  # type: ignore[arg-type]
    assert not AuditEvent.objects.exists()


def test_a_row_names_the_object_the_actor_and_the_action(make_applicant: Callable[..., Applicant], user: Any) -> None:
    applicant = make_applicant()
    row = audit(
        Change.by_user(user, Source.API, reason="why", reason_code="OTHER"),
        obj=applicant,
        applicant_id=applicant.pk,
        action=AuditAction.CREATED,
        to_status=applicant.status,
        data={"k": 1},
    )
    row.refresh_from_db()
    assert (row.object_type, row.object_id, row.action) == ("applicant", str(applicant.pk), "created")
    assert (row.actor, row.actor_label, row.source, row.reason, row.reason_code) == (
        user,
        "alice",
        "api",
        "why",
        "OTHER",
    )
    assert row.get_action_display() == "Created"
    with pytest.raises(ValueError, match="append-only"):
        row.save()


def test_audit_many_writes_one_row_per_applicant_in_one_insert(
    make_applicant: Callable[..., Applicant], user: Any, django_assert_num_queries: Any
) -> None:
    applicants = [make_applicant(), make_applicant(last_name="Jones")]
    with django_assert_num_queries(1):
        audit_many(Change.by_user(user, Source.ADMIN), applicants, action=AuditAction.EXPORTED, data={"count": 2})
    rows = AuditEvent.objects.filter(action=AuditAction.EXPORTED)
    assert sorted(rows.values_list("object_id", flat=True)) == sorted(str(a.pk) for a in applicants)
    assert {row.actor_label for row in rows} == {"alice"}


def test_decision_reason_is_the_reason_of_the_change_to_the_current_status(
    make_applicant: Callable[..., Applicant], user: Any
) -> None:
    verification = make_verification(make_applicant(), VerificationStatus.DECLINED)
    assert decision_reason(verification) == ("", "")
    for reason, code in (("first", "OTHER"), ("the decision", "DOCUMENT_EDITED")):
        audit(
            Change.by_user(user, Source.ADMIN, reason=reason, reason_code=code),
            obj=verification,
            applicant_id=verification.applicant_id,
            from_status=VerificationStatus.REVIEW,
            to_status=VerificationStatus.DECLINED,
        )
    # a later row of another action with the same status is not the decision
    audit(
        Change.system(reason="provider said no"),
        obj=verification,
        applicant_id=verification.applicant_id,
        action=AuditAction.PUSH_FAILED,
        to_status=VerificationStatus.DECLINED,
    )
    assert decision_reason(verification) == ("the decision", "DOCUMENT_EDITED")


def test_every_audit_call_names_an_action_from_the_list() -> None:
    """No caller writes a free string: ``action=`` is always an ``AuditAction`` member (or left to the default)."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in (
                "audit",
                "audit_many",
            ):
                for keyword in node.keywords:
                    if keyword.arg == "action" and "AuditAction." not in ast.unparse(keyword.value):
                        offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert offenders == []
