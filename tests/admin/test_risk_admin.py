"""The risk level in the admin: read-only in the applicant form, changed only through the reasoned action or
the applicant's "Change risk level" page (audited), and never a way around four-eyes."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin as django_admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import User
from django.test import Client, override_settings
from django.urls import reverse

from django_kyc.models import Applicant, AuditEvent, ReviewDecision, Verification
from django_kyc.status import RiskLevel, VerificationStatus
from tests.support.factories import create_user, make_verification
from tests.support.kyc_settings import kyc_settings_with

pytestmark = pytest.mark.django_db
# (no import of the risk service: these tests must run, and fail, on code that predates it)
FOUR_EYES = kyc_settings_with(FOUR_EYES=True)
V = VerificationStatus
INLINES = ("documents", "verifications", "aml_checks", "erasure_requests", "audit_events")


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(model: Any, view: str, *args: Any) -> str:
    return reverse(f"admin:django_kyc_{model._meta.model_name}_{view}", args=args)


def risk_page(applicant: Applicant) -> str:
    return f"/admin/django_kyc/applicant/{applicant.pk}/decide/risk_level/"


@pytest.fixture
def editor(db: Any) -> User:
    """The reviewer of the security review: may decide and may edit applicants (no personal data)."""
    return create_user(
        "editor",
        "django_kyc.review_applicant",
        "django_kyc.change_applicant",
        "django_kyc.view_applicant",
        "django_kyc.view_verification",
        staff=True,
    )


@pytest.fixture
def high_risk_in_review(make_applicant: Any) -> tuple[Applicant, Verification]:
    applicant = make_applicant(risk_level=RiskLevel.HIGH)
    return applicant, make_verification(applicant, V.REVIEW)


def save_change_form(client: Client, applicant: Applicant, **fields: str) -> Any:
    """Post the applicant's change form as the browser would (with the read-only inlines' management forms)."""
    data: dict[str, Any] = {"nationality": applicant.nationality, "country": applicant.country, **fields}
    for prefix in INLINES:
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    return client.post(url(Applicant, "change", applicant.pk), data)


def approve(client: Client, verification: Verification) -> Any:
    return client.post(
        url(Verification, "changelist"),
        {
            "action": "approve",
            ACTION_CHECKBOX_NAME: [str(verification.pk)],
            "apply": "1",
            "reason_code": "VERIFIED_MANUALLY",
        },
    )


@override_settings(DJANGO_KYC=FOUR_EYES)
def test_saving_the_applicant_form_with_a_lower_risk_does_not_open_the_way_to_a_lone_approval(
    high_risk_in_review: tuple[Applicant, Verification], editor: User
) -> None:
    """The reported bypass, step by step: save the high-risk applicant with risk_level=low, then approve."""
    applicant, verification = high_risk_in_review
    client = login(editor)
    response = save_change_form(client, applicant, risk_level=RiskLevel.LOW, external_id="crm-1")
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    applicant.refresh_from_db()
    assert applicant.external_id == "crm-1"  # the save went through ...
    assert applicant.risk_level == RiskLevel.HIGH  # ... without the risk level

    approve(client, verification)
    verification.refresh_from_db()
    assert verification.status == V.REVIEW
    proposal = ReviewDecision.objects.get(verification=verification)
    assert (proposal.rule, proposal.proposed_by) == ("risk_level:high", editor)


def test_the_risk_level_is_read_only_in_the_applicant_form(make_applicant: Any, admin_user: User) -> None:
    applicant = make_applicant(risk_level=RiskLevel.HIGH)
    page = login(admin_user).get(url(Applicant, "change", applicant.pk))
    assert "risk_level" not in page.context["adminform"].form.fields
    assert "risk_level" in page.context["adminform"].readonly_fields


@override_settings(DJANGO_KYC=FOUR_EYES)
def test_the_change_risk_level_action_asks_for_a_reason_and_is_audited_then_four_eyes_still_applies(
    high_risk_in_review: tuple[Applicant, Verification], editor: User
) -> None:
    applicant, verification = high_risk_in_review
    client = login(editor)
    data = {"action": "change_risk_level", ACTION_CHECKBOX_NAME: [str(applicant.pk)]}
    page = client.post(url(Applicant, "changelist"), data)
    assert page.status_code == 200
    assert "django_kyc/admin/decision.html" in [t.name for t in page.templates]
    assert f"{applicant.reference} · risk High" in page.content.decode()
    # no reason code: the page again, nothing changed
    page = client.post(url(Applicant, "changelist"), {**data, "apply": "1", "risk_level": RiskLevel.LOW})
    assert page.status_code == 200
    assert Applicant.objects.get(pk=applicant.pk).risk_level == RiskLevel.HIGH

    response = client.post(
        url(Applicant, "changelist"),
        {**data, "apply": "1", "risk_level": RiskLevel.LOW, "reason_code": "OTHER", "comment": "PEP role ended"},
    )
    assert response.status_code == 302
    assert Applicant.objects.get(pk=applicant.pk).risk_level == RiskLevel.LOW
    row = AuditEvent.objects.get(applicant=applicant, action="risk_changed")
    assert (row.from_status, row.to_status, row.actor, row.reason_code, row.reason) == (
        RiskLevel.HIGH,
        RiskLevel.LOW,
        editor,
        "OTHER",
        "PEP role ended",
    )

    approve(client, verification)
    verification.refresh_from_db()
    assert verification.status == V.REVIEW
    assert ReviewDecision.objects.get(verification=verification).rule == "risk_lowered_by_decider:high"


def test_the_applicant_page_links_to_its_risk_page_for_reviewers_only(make_applicant: Any, editor: User) -> None:
    applicant = make_applicant(risk_level=RiskLevel.MEDIUM)
    client = login(editor)
    assert f'href="{risk_page(applicant)}"' in client.get(url(Applicant, "change", applicant.pk)).content.decode()
    response = client.post(risk_page(applicant), {"apply": "1", "risk_level": RiskLevel.HIGH, "reason_code": "OTHER"})
    assert response.status_code == 302
    assert response["Location"] == url(Applicant, "change", applicant.pk)
    assert Applicant.objects.get(pk=applicant.pk).risk_level == RiskLevel.HIGH

    no_review = create_user("clerk", "django_kyc.view_applicant", "django_kyc.change_applicant", staff=True)
    other = login(no_review)
    assert "decide/risk_level" not in other.get(url(Applicant, "change", applicant.pk)).content.decode()
    for method in (other.get, other.post):
        assert method(
            risk_page(applicant), {"apply": "1", "risk_level": "low", "reason_code": "OTHER"}
        ).status_code == (403)
    assert Applicant.objects.get(pk=applicant.pk).risk_level == RiskLevel.HIGH


def test_no_applicant_action_changes_the_risk_level_without_an_audit_row(make_applicant: Any, admin_user: User) -> None:
    """Every bulk action of the applicant list, run with everything it may ask for: the risk level moves only
    where a ``risk_changed`` row says so."""
    model_admin = django_admin.site._registry[Applicant]
    request = Client()
    request.force_login(admin_user)
    names = list(model_admin.get_actions(request.get(url(Applicant, "changelist")).wsgi_request))
    assert "change_risk_level" in names
    for name in names:
        applicant = make_applicant(risk_level=RiskLevel.HIGH)
        request.post(
            url(Applicant, "changelist"),
            {
                "action": name,
                ACTION_CHECKBOX_NAME: [str(applicant.pk)],
                "apply": "1",
                "risk_level": RiskLevel.LOW,
                "reason_code": "OTHER",
            },
        )
        level = Applicant.objects.get(pk=applicant.pk).risk_level
        audited = list(
            AuditEvent.objects.filter(applicant=applicant, action="risk_changed").values_list(
                "from_status", "to_status"
            )
        )
        assert audited == ([] if level == RiskLevel.HIGH else [(RiskLevel.HIGH, level)]), name
