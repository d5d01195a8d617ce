"""The demo's onboarding page at a laptop's size: controls follow what the API says the applicant may do, the
messages follow the verification, and the browser's console stays clean."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from django_kyc.backends.sandbox import rules
from django_kyc.models import Verification
from django_kyc.status import VerificationStatus
from tests.support.files import make_png

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1366, "height": 768}
CONTROLS = ("#upload-document", "#document-file", "#start-verification")


@pytest.fixture
def console_errors(browser_page: Any) -> list[str]:
    """Every error the page writes to the console (failed requests included) or throws."""
    errors: list[str] = []
    browser_page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    browser_page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def sign_in_and_create_applicant(page: Any, base: str, last_name: str) -> None:
    User.objects.create_user(username="ada", password="pw")
    page.set_viewport_size(LAPTOP)
    page.goto(f"{base}/onboarding/login/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", "pw")
    page.click("#login-submit")
    page.wait_for_selector("#applicant-form:not([hidden])")
    page.fill("#first_name", "Ada")
    page.fill("#last_name", last_name)
    page.fill("#date_of_birth", "1990-12-10")
    page.fill("#nationality", "gb")
    page.click("#create-applicant")
    page.wait_for_selector("#applicant-summary:not([hidden])")


def upload_document(page: Any) -> None:
    page.set_input_files(
        "#document-file", files=[{"name": "passport.png", "mimeType": "image/png", "buffer": make_png(8, 8)}]
    )
    page.click("#upload-document")
    page.wait_for_selector("#document-list li")


def disabled(page: Any) -> dict[str, bool]:
    return {selector: page.is_disabled(selector) for selector in CONTROLS}


def test_controls_close_while_a_verification_runs_and_after_approval(
    live_server: Any, browser_page: Any, screenshot: Any, console_errors: list[str]
) -> None:
    page, base = browser_page, live_server.url
    sign_in_and_create_applicant(page, base, "Lovelace")
    assert disabled(page) == dict.fromkeys(CONTROLS, False)
    rules_table = page.inner_text(".rules table")
    assert all(rule.keyword in rules_table for rule in rules.NAME_RULES)  # pep and sanction included
    upload_document(page)

    page.check("#backend-hosted")  # the hosted flow waits for the applicant: a verification that stays running
    page.click("#start-verification")
    page.wait_for_function("document.getElementById('flash').textContent.startsWith('Verification started')")
    page.wait_for_selector('#verification-status[data-status="awaiting_user"]')
    assert disabled(page) == dict.fromkeys(CONTROLS, True)
    assert page.inner_text("#actions-note") == "A verification is running: wait for its result."
    assert page.inner_text("#flash").startswith("Finish the verification on the provider's page")
    screenshot("onboarding-running")

    with page.context.expect_page() as opened:  # the link beside the closed form stays usable
        page.click("#client-link")
    capture = opened.value
    capture.wait_for_load_state()
    capture.click("#finish")
    capture.wait_for_selector("#result")
    capture.close()

    page.wait_for_selector('#verification-status[data-status="approved"]', timeout=30_000)
    page.wait_for_selector("#applicant-status[data-status='verified']")
    assert page.inner_text("#flash") == "Verification approved: your identity is verified."
    assert disabled(page) == dict.fromkeys(CONTROLS, True)
    assert page.inner_text("#actions-note") == "Your identity is verified: there is nothing more to do."
    screenshot("onboarding-approved-1366")
    assert Verification.objects.get().status == VerificationStatus.APPROVED
    assert console_errors == []


def test_controls_reopen_when_the_provider_asks_for_a_new_document(
    live_server: Any, browser_page: Any, screenshot: Any, console_errors: list[str]
) -> None:
    page, base = browser_page, live_server.url
    sign_in_and_create_applicant(page, base, f"Ada-{rules.RESUBMIT.keyword.title()}")
    upload_document(page)
    page.check("#backend-sandbox")
    page.click("#start-verification")
    page.wait_for_selector('#verification-status[data-status="resubmission_requested"]', timeout=30_000)
    page.wait_for_selector("#applicant-status[data-status='action_required']")
    page.wait_for_function("!document.getElementById('upload-document').disabled")
    assert disabled(page) == dict.fromkeys(CONTROLS, False)
    assert page.is_hidden("#actions-note")
    assert page.inner_text("#flash") == (
        "The provider asks for a new document: upload it, then start the verification again."
    )
    screenshot("onboarding-resubmission-1366")
    assert console_errors == []


def test_reloading_the_page_with_an_applicant_asks_without_a_404(
    live_server: Any, browser_page: Any, console_errors: list[str]
) -> None:
    page, base = browser_page, live_server.url
    sign_in_and_create_applicant(page, base, "Lovelace")
    statuses: list[tuple[str, int]] = []
    page.on("response", lambda response: statuses.append((response.url, response.status)))
    page.reload()
    page.wait_for_selector("#applicant-summary:not([hidden])")
    assert not [entry for entry in statuses if entry[1] >= 400]
    assert console_errors == []


def test_a_due_review_prompts_the_person_to_verify_again(
    live_server: Any, browser_page: Any, screenshot: Any, console_errors: list[str]
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from django_kyc.models import Applicant
    from django_kyc.status import ApplicantStatus

    page, base = browser_page, live_server.url
    sign_in_and_create_applicant(page, base, "Renewal")
    # set-up: verified, with a review falling due in ten days (inside the notice period)
    Applicant.objects.update(
        status=ApplicantStatus.VERIFIED, next_review_at=timezone.now() + timedelta(days=10), review_reason="periodic"
    )
    page.reload()
    page.wait_for_selector('#actions-note[data-review="due"]')
    assert page.inner_text("#actions-note").startswith("Your verification is due for renewal")
    assert disabled(page) == dict.fromkeys(CONTROLS, False)
    screenshot("onboarding-review-due")

    Applicant.objects.update(status=ApplicantStatus.REVERIFICATION_REQUIRED)
    page.reload()
    page.wait_for_selector('#applicant-status[data-status="reverification_required"]')
    assert page.inner_text("#actions-note") == (
        "Your verification has lapsed: upload a current document and verify again."
    )
    assert page.inner_text("#applicant-status") == "Re-verification required"
    assert disabled(page) == dict.fromkeys(CONTROLS, False)
    screenshot("onboarding-reverification-required")
    assert console_errors == []
