"""The review queue in admin: AML hits beside verifications, assignee filter, "assign to me", counts, the
proposals list with its confirm action, and the permission-gated CSV export."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client, override_settings
from django.urls import reverse

from django_kyc.models import (
    AmlCheck,
    AmlHit,
    AmlQueueItem,
    AuditEvent,
    ProposalStatus,
    ReviewDecision,
    ReviewQueueItem,
)
from django_kyc.services import aml, review
from django_kyc.services.audit import Change
from django_kyc.status import AmlStatus, VerificationStatus
from tests.support.factories import create_user, make_verification
from tests.support.kyc_settings import kyc_settings_with

pytestmark = pytest.mark.django_db
V = VerificationStatus


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(model: Any, view: str = "changelist") -> str:
    return reverse(f"admin:django_kyc_{model._meta.model_name}_{view}")


@pytest.fixture
def queue_reviewer(db: Any) -> Any:
    return create_user(
        "queue",
        "django_kyc.review_applicant",
        "django_kyc.view_reviewqueueitem",
        "django_kyc.view_verification",
        "django_kyc.view_amlqueueitem",
        "django_kyc.view_amlhit",
        "django_kyc.view_reviewdecision",
        staff=True,
    )


def open_hit(applicant: Any) -> AmlHit:
    check = aml.start_check(applicant, Change.system())
    AmlCheck.objects.filter(pk=check.pk).update(status=AmlStatus.POTENTIAL_MATCH)
    return AmlHit.objects.create(aml_check=check, entity_id="e1", caption="Someone", score=0.7, topics=["crime"])


def test_queue_counts_and_aml_hits(make_applicant: Any, queue_reviewer: Any) -> None:
    for status in (V.REVIEW, V.REVIEW, V.ERROR, V.APPROVED):
        make_verification(make_applicant(), status)
    hit = open_hit(make_applicant())
    client = login(queue_reviewer)
    response = client.get(url(ReviewQueueItem))
    assert response.status_code == 200
    counts = response.context["queue_counts"]
    assert dict(counts["verifications"]) == {"In review": 2, "Error": 1}
    assert (counts["aml_hits"], counts["proposals"]) == (1, 0)
    assert 'id="kyc-queue-counts"' in response.content.decode()
    response = client.get(url(AmlQueueItem))
    assert response.status_code == 200
    assert [row.pk for row in response.context["cl"].result_list] == [hit.pk]


def test_assign_to_me_and_assignee_filter(make_applicant: Any, queue_reviewer: Any) -> None:
    mine, other = (make_verification(make_applicant(), V.REVIEW) for _ in range(2))
    client = login(queue_reviewer)
    response = client.post(url(ReviewQueueItem), {"action": "assign_to_me", ACTION_CHECKBOX_NAME: [str(mine.pk)]})
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.assigned_to == queue_reviewer

    def shown(value: str) -> set[Any]:
        return {r.pk for r in client.get(url(ReviewQueueItem), {"assignee": value}).context["cl"].result_list}

    assert shown("me") == {mine.pk}
    assert shown("none") == {other.pk}
    hit = open_hit(make_applicant())
    client.post(url(AmlQueueItem), {"action": "assign_to_me", ACTION_CHECKBOX_NAME: [str(hit.pk)]})
    hit.refresh_from_db()
    assert hit.assigned_to == queue_reviewer


def test_aml_queue_queries_do_not_grow_with_rows(make_applicant: Any, queue_reviewer: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(queue_reviewer)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url(AmlQueueItem)).status_code == 200
        return len(queries)

    for _ in range(2):
        review.assign(open_hit(make_applicant()), queue_reviewer)
    few = count()
    for _ in range(10):
        review.assign(open_hit(make_applicant()), queue_reviewer)
    assert count() == few


@override_settings(DJANGO_KYC=kyc_settings_with(FOUR_EYES=True))
def test_decision_becomes_a_proposal_then_is_confirmed_from_the_proposals_list(
    make_applicant: Any, queue_reviewer: Any
) -> None:
    verification = make_verification(make_applicant(risk_level="high"), V.REVIEW)
    client = login(queue_reviewer)
    response = client.post(
        url(ReviewQueueItem),
        {"action": "decline", ACTION_CHECKBOX_NAME: [str(verification.pk)], "apply": "1", "reason_code": "OTHER"},
        follow=True,
    )
    assert "second reviewer" in response.content.decode()
    proposal = ReviewDecision.objects.get(verification=verification)
    # the proposer sees the list but has no confirm action; forcing it changes nothing
    assert "confirm_proposals" not in client.get(url(ReviewDecision)).content.decode()
    approver = create_user(
        "approver",
        "django_kyc.review_applicant",
        "django_kyc.approve_high_risk",
        "django_kyc.view_reviewdecision",
        staff=True,
    )
    second = login(approver)
    data = {"action": "confirm_proposals", ACTION_CHECKBOX_NAME: [str(proposal.pk)]}
    page = second.post(url(ReviewDecision), data)
    assert page.status_code == 200
    assert "proposed by queue" in page.content.decode()
    second.post(url(ReviewDecision), {**data, "apply": "1", "comment": "agreed"})
    proposal.refresh_from_db()
    verification.refresh_from_db()
    assert (proposal.status, proposal.confirmed_by, verification.status) == (
        ProposalStatus.CONFIRMED,
        approver,
        V.DECLINED,
    )


# --- export ------------------------------------------------------------------------------------------------


def export(user: Any, applicant: Any) -> Any:
    return login(user).post(
        reverse("admin:django_kyc_applicant_changelist"),
        {"action": "export_applicants", ACTION_CHECKBOX_NAME: [str(applicant.pk)]},
    )


def test_export_needs_the_permission(make_applicant: Any) -> None:
    applicant = make_applicant()
    viewer = create_user("viewer2", "django_kyc.view_applicant", staff=True)
    response = export(viewer, applicant)
    assert response.get("Content-Type", "").startswith("text/html")  # no such action: back to the list
    assert not AuditEvent.objects.filter(action="exported").exists()


@pytest.mark.parametrize("with_pii", [False, True])
def test_export_masks_pii_without_the_pii_permission_and_is_audited(make_applicant: Any, with_pii: bool) -> None:
    applicant = make_applicant(last_name="Exportable")
    perms = ["django_kyc.view_applicant", "django_kyc.export_applicant"]
    if with_pii:
        perms.append("django_kyc.view_applicant_pii")
    exporter = create_user("exporter", *perms, staff=True)
    response = export(exporter, applicant)
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows[0]["reference"] == applicant.reference
    assert ("last_name" in rows[0]) is with_pii
    assert ("Exportable" in response.content.decode()) is with_pii
    row = AuditEvent.objects.get(action="exported", applicant=applicant)
    assert (row.actor, row.data["pii"]) == (exporter, with_pii)


def test_the_queue_filters_by_the_statuses_it_holds_only(make_applicant: Any, queue_reviewer: Any) -> None:
    in_review, in_error = make_verification(make_applicant(), V.REVIEW), make_verification(make_applicant(), V.ERROR)
    client = login(queue_reviewer)
    response = client.get(url(ReviewQueueItem))
    status_filter = next(spec for spec in response.context["cl"].filter_specs if spec.parameter_name == "status__exact")
    assert [choice["display"] for choice in status_filter.choices(response.context["cl"])] == [
        "All",
        "In review",
        "Error",
    ]

    def shown(status: str) -> set[Any]:
        return {row.pk for row in client.get(url(ReviewQueueItem), {"status__exact": status}).context["cl"].result_list}

    assert shown("error") == {in_error.pk}
    assert shown("review") == {in_review.pk}
