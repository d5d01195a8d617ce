"""The flows people actually click through, in a real browser."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.core.files.base import ContentFile

from django_kyc.models import AuditEvent, Document, DocumentFile, Verification
from django_kyc.services import transitions
from django_kyc.services.audit import Change
from django_kyc.status import Source, VerificationStatus
from example_project.onboarding.images import identity_card_png
from tests.support.files import make_png

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in_admin(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/")


def reviewer(username: str = "rita") -> User:
    user = User.objects.create_user(username=username, password="pw", is_staff=True)
    codenames = [
        "view_applicant",
        "view_applicant_pii",
        "review_applicant",
        "view_verification",
        "view_reviewqueueitem",
        "view_document",
        "view_auditevent",
    ]
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="django_kyc", codename__in=codenames))
    return user


def test_onboarding_page_completes_a_sandbox_verification(live_server: Any, browser_page: Any, screenshot: Any) -> None:
    User.objects.create_user(username="ada", password="pw")
    page, base = browser_page, live_server.url
    page.goto(f"{base}/onboarding/login/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", "pw")
    page.click("#login-submit")
    page.wait_for_selector("#applicant-form:not([hidden])")
    page.fill("#first_name", "Ada")
    page.fill("#last_name", "Lovelace")
    page.fill("#date_of_birth", "1990-12-10")
    page.fill("#nationality", "gb")
    page.click("#create-applicant")
    page.wait_for_selector("#applicant-summary:not([hidden])")
    page.select_option("#document-type", "passport")
    page.set_input_files(
        "#document-file", files=[{"name": "passport.png", "mimeType": "image/png", "buffer": make_png(8, 8)}]
    )
    page.click("#upload-document")
    page.wait_for_selector("#document-list li")
    page.check("#backend-sandbox")
    page.click("#start-verification")
    page.wait_for_selector('#verification-status[data-status="approved"]', timeout=30_000)
    screenshot("onboarding-approved")
    assert Verification.objects.get().status == VerificationStatus.APPROVED


def test_reviewer_finds_the_applicant_previews_the_document_and_declines_with_a_reason(
    live_server: Any, browser_page: Any, screenshot: Any, make_applicant: Any
) -> None:
    applicant = make_applicant(last_name="Queue", with_document=False)
    document = Document.objects.create(applicant=applicant, type="passport", number="P1234567", issuing_country="GB")
    card = identity_card_png("Queue")
    row = DocumentFile(
        document=document,
        side="single",
        sha256=hashlib.sha256(card).hexdigest(),
        content_type="image/png",
        size=len(card),
    )
    row.file.save("card.png", ContentFile(card), save=False)
    row.save()
    verification = Verification.objects.create(applicant=applicant, backend="sandbox")
    for status in (VerificationStatus.PROCESSING, VerificationStatus.REVIEW):
        transitions.transition_verification(verification.pk, status, Change.provider("sandbox", Source.WEBHOOK))
    reviewer()
    page, base = browser_page, live_server.url
    sign_in_admin(page, base, "rita")

    page.goto(f"{base}/admin/django_kyc/reviewqueueitem/")
    assert page.locator(f'input[name="_selected_action"][value="{verification.pk}"]').count() == 1
    screenshot("review-queue")
    page.goto(f"{base}/admin/django_kyc/applicant/{applicant.pk}/change/")
    preview = page.locator("a.kyc-preview img").first
    preview.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=preview.element_handle())
    assert page.evaluate("img => img.naturalWidth", preview.element_handle()) == 480  # the real image loaded
    page.locator(".inline-group").first.screenshot(path=str(screenshot.directory / "applicant-documents.png"))
    with page.expect_navigation():
        page.locator("a.kyc-preview").first.click()
    screenshot("document-preview")
    # the inline preview and the full view are both accesses, both audited under the reviewer's name
    assert AuditEvent.objects.filter(action="file_viewed", actor__username="rita").count() == 2

    page.goto(f"{base}/admin/django_kyc/verification/{verification.pk}/change/")
    page.click("#decide-decline")
    page.select_option("#id_reason_code", "SUSPECTED_FRAUD")
    page.fill("#id_comment", "Document edges look edited.")
    screenshot("decline-with-reason")
    page.click("#confirm-decision")
    page.wait_for_selector(".messagelist")
    verification.refresh_from_db()
    assert verification.status == VerificationStatus.DECLINED
    row = AuditEvent.objects.get(object_id=str(verification.pk), to_status="declined")
    assert (row.actor.username, row.reason_code, row.reason) == (
        "rita",
        "SUSPECTED_FRAUD",
        "Document edges look edited.",
    )
    page.goto(f"{base}/admin/django_kyc/applicant/{applicant.pk}/change/")
    screenshot("applicant-timeline")
    assert "SUSPECTED_FRAUD" in page.content()


def test_a_high_risk_decline_needs_a_second_reviewer_to_confirm(
    live_server: Any, browser_page: Any, screenshot: Any, make_applicant: Any
) -> None:
    from django.conf import settings
    from django.test import override_settings

    from django_kyc.models import ReviewDecision

    applicant = make_applicant(last_name="Risky", risk_level="high")
    verification = Verification.objects.create(applicant=applicant, backend="sandbox")
    for status in (VerificationStatus.PROCESSING, VerificationStatus.REVIEW):
        transitions.transition_verification(verification.pk, status, Change.provider("sandbox", Source.WEBHOOK))
    reviewer("rita")
    second = reviewer("sam")
    second.user_permissions.add(*Permission.objects.filter(codename__in=["approve_high_risk", "view_reviewdecision"]))
    page, base = browser_page, live_server.url
    with override_settings(DJANGO_KYC={**settings.DJANGO_KYC, "FOUR_EYES": True}):
        sign_in_admin(page, base, "rita")
        page.goto(f"{base}/admin/django_kyc/verification/{verification.pk}/change/")
        page.click("#decide-decline")
        page.select_option("#id_reason_code", "SUSPECTED_FRAUD")
        page.fill("#id_comment", "High-risk profile, documents inconsistent.")
        page.click("#confirm-decision")
        page.wait_for_selector(".messagelist")
        verification.refresh_from_db()
        assert verification.status == VerificationStatus.REVIEW  # only proposed so far
        proposal = ReviewDecision.objects.get()
        assert proposal.proposed_by.username == "rita"

        page.context.clear_cookies()
        sign_in_admin(page, base, "sam")
        page.goto(f"{base}/admin/django_kyc/reviewdecision/")
        screenshot("four-eyes-proposals")
        page.check(f'input[name="_selected_action"][value="{proposal.pk}"]')
        page.select_option("select[name=action]", "confirm_proposals")
        page.click("button[name=index]")
        page.fill("textarea[name=comment]", "Agree with the proposal.")
        page.click("#confirm-decision")
        page.wait_for_selector(".messagelist")
        screenshot("four-eyes-confirmed")
        page.goto(f"{base}/admin/django_kyc/reviewdecision/dashboard/")
        page.wait_for_selector("svg")
        screenshot("dashboard")
    verification.refresh_from_db()
    proposal.refresh_from_db()
    assert verification.status == VerificationStatus.DECLINED
    assert proposal.confirmed_by is not None
    assert proposal.confirmed_by.username == "sam"
