"""A reviewer's day on the case page, in a real browser at 1366x768: queue, case, compare, rotate, resolve a hit,
approve with the keyboard; and a second reviewer confirming a four-eyes proposal there."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

from django_kyc.models import AmlCheck, AmlHit, AuditEvent, Document, ReviewDecision, Verification
from django_kyc.services import transitions
from django_kyc.services.audit import Change
from django_kyc.status import AmlHitStatus, AmlStatus, Source, VerificationStatus
from example_project.onboarding.images import identity_card_png
from tests.browser.test_review_in_browser import sign_in_admin
from tests.support.cases import reviewer, stored_file
from tests.support.files import make_pdf

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH, HEIGHT = 1366, 768


#: True when each text node of an element (the words between its <wbr>) sits on one line.
WORDS_ON_ONE_LINE = """element => Array.from(element.childNodes)
    .filter(node => node.nodeType === Node.TEXT_NODE)
    .every(node => { const range = document.createRange(); range.selectNodeContents(node);
                     return range.getClientRects().length === 1; })"""


@pytest.fixture
def page(chromium_browser: Any) -> Iterator[Any]:
    """A laptop's screen: the case page must fit it without scrolling sideways."""
    context = chromium_browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    yield tab
    context.close()


@pytest.fixture
def shot(page: Any, screenshot: Any) -> Any:
    def take(name: str) -> None:
        path = screenshot.directory / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        # nothing cut off at the side: the page is no wider than the screen
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH, name

    return take


def in_review(applicant: Any, **provider_data: Any) -> Verification:
    verification = Verification.objects.create(applicant=applicant, backend="sandbox")
    for status in (VerificationStatus.PROCESSING, VerificationStatus.REVIEW):
        transitions.transition_verification(verification.pk, status, Change.provider("sandbox", Source.WEBHOOK))
    if provider_data:
        Verification.objects.filter(pk=verification.pk).update(provider_data=provider_data)
    return verification


def test_a_reviewer_compares_rotates_resolves_a_hit_and_approves_with_the_keyboard(
    live_server: Any, page: Any, shot: Any, make_applicant: Any
) -> None:
    applicant = make_applicant(last_name="Lovelace", date_of_birth="1990-12-10", country="GB", with_document=False)
    card = Document.objects.create(applicant=applicant, type="id_card", number="ID998877", issuing_country="GB")
    stored_file(card, identity_card_png("front"), "image/png", "front")
    stored_file(card, identity_card_png("back"), "image/png", "back")
    statement = Document.objects.create(applicant=applicant, type="bank_statement")
    stored_file(statement, make_pdf(2), "application/pdf", "single")
    verification = in_review(
        applicant,
        confirmed_fields=["first_name", "last_name", "nationality"],
        applicant_mismatches={"date_of_birth": {"applicant": "1990-12-10", "provider": "1990-10-12"}},
        document_readings={str(card.pk): {"confirmed": ["issuing_country"], "mismatches": {"number": "ID998878"}}},
    )
    Verification.objects.filter(pk=verification.pk).update(reasons=["DATA_MISMATCH"], provider_status="needs_review")
    check = AmlCheck.objects.create(applicant=applicant, backend="sandbox", status=AmlStatus.POTENTIAL_MATCH)
    hit = AmlHit.objects.create(
        aml_check=check,
        entity_id="Q-42",
        caption="Ada Lovelace-Byron",
        score=0.74,
        topics=["role.pep"],
        datasets=["everypolitician"],
        details={"birthDate": ["1815-12-10"], "position": "Countess"},
    )
    in_review(make_applicant(last_name="Smith", with_document=False))  # another case, newer
    reviewer("rita")
    base = live_server.url
    sign_in_admin(page, base, "rita")

    # the queue: the reviewer finds the applicant by name among the cases
    page.goto(f"{base}/admin/django_kyc/reviewqueueitem/")
    page.wait_for_selector("#kyc-next")
    assert page.locator("#result_list tbody tr").count() == 2
    page.fill("#searchbar", "lovelace")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    assert "Jane Lovelace" in rows.first.inner_text()
    shot("case-queue")
    page.locator("#searchbar").blur()
    # "n" takes the oldest unassigned case (hers: the other came later) and opens it
    with page.expect_navigation():
        page.keyboard.press("n")
    assert f"/reviewqueueitem/{verification.pk}/change/" in page.url
    verification.refresh_from_db()
    assert verification.assigned_to is not None
    assert verification.assigned_to.username == "rita"

    # compare: the date of birth and the document number differ, and are highlighted
    mismatches = page.locator('#kyc-compare tr[data-state="mismatch"]')
    assert mismatches.count() == 2
    assert "1990-10-12" in mismatches.nth(0).inner_text()
    assert "ID998878" in mismatches.nth(1).inner_text()
    highlighted = page.evaluate(
        "row => getComputedStyle(row.querySelector('td')).backgroundColor", mismatches.nth(0).element_handle()
    )
    plain = page.evaluate(
        "row => getComputedStyle(row.querySelector('td')).backgroundColor",
        page.locator('#kyc-compare tr[data-state="match"]').first.element_handle(),
    )
    assert highlighted != plain

    # the documents: front and back side by side, the PDF paged
    front, back = (
        page.locator('.kyc-viewer[data-kind="image"]').nth(0),
        page.locator('.kyc-viewer[data-kind="image"]').nth(1),
    )
    for figure in (front, back):
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=figure.locator("img").element_handle()
        )
    front_box, back_box = front.bounding_box(), back.bounding_box()
    assert abs(front_box["y"] - back_box["y"]) < 2  # side by side, not stacked
    assert back_box["x"] > front_box["x"] + front_box["width"] - 1
    pdf = page.locator('.kyc-viewer[data-kind="pdf"]')
    page.wait_for_function("el => el.querySelector('.kyc-page-count').textContent === '2'", arg=pdf.element_handle())
    pdf.locator(".kyc-page-next").click()
    page.wait_for_function("el => el.dataset.page === '2'", arg=pdf.element_handle())
    assert pdf.locator(".kyc-page-next").is_disabled()

    # rotate the front: a quarter turn, the card shrunk so that all of it stays inside its frame
    front.locator(".kyc-rotate").click()
    image = front.locator("img")
    assert image.evaluate("img => img.style.transform").startswith("rotate(90deg) scale(")
    page.wait_for_timeout(250)  # the transition
    matrix = image.evaluate("img => getComputedStyle(img).transform")
    assert matrix.startswith("matrix(")
    a, b = (float(value) for value in matrix[len("matrix(") : -1].split(",")[:2])
    assert round(math.degrees(math.atan2(b, a))) == 90
    turned, frame = image.bounding_box(), front.locator(".kyc-viewport").bounding_box()
    assert turned["height"] > turned["width"]  # the landscape card now stands upright
    assert turned["y"] >= frame["y"] - 1
    assert turned["y"] + turned["height"] <= frame["y"] + frame["height"] + 1, (turned, frame)
    assert turned["x"] >= frame["x"] - 1
    assert turned["x"] + turned["width"] <= frame["x"] + frame["width"] + 1, (turned, frame)
    # zoom the back in, and back to fit
    back.locator(".kyc-zoom-in").click()
    assert back.locator("img").evaluate("img => img.style.transform") == "rotate(0deg) scale(1.25)"
    back.locator(".kyc-reset").click()
    assert back.locator("img").evaluate("img => img.style.transform") == "rotate(0deg) scale(1)"
    # the breadcrumb leads back to the queue
    assert page.get_attribute("#kyc-breadcrumb-queue", "href") == "/admin/django_kyc/reviewqueueitem/"
    shot("case-page")

    # resolve the AML hit: dismissed as a different person
    hit_box = page.locator(f"#kyc-hit-{hit.pk}")
    hit_box.locator("summary").click()
    assert "Countess" in hit_box.inner_text()
    hit_box.locator("select[name=resolution]").select_option("false_positive")
    reasons = hit_box.locator("select[name=reason_code] option:not([hidden])")
    assert "Sanctions or PEP match" not in reasons.all_inner_texts()
    hit_box.locator("select[name=reason_code]").select_option("VERIFIED_MANUALLY")
    hit_box.locator("input[name=comment]").fill("Born 1815: another person.")
    with page.expect_navigation():
        hit_box.locator("button[type=submit]").click()
    hit.refresh_from_db()
    assert hit.status == AmlHitStatus.FALSE_POSITIVE
    assert page.locator(".messagelist li").count() == 1

    # the timeline filtered to one kind of event: the resolution, and nothing else
    timeline = page.locator("#kyc-timeline tbody tr")
    everything = timeline.count()
    page.select_option("#kyc-filter-kind", "hit_resolved")
    shown = page.locator("#kyc-timeline tbody tr:visible")
    assert 1 <= shown.count() < everything
    assert set(shown.evaluate_all("rows => rows.map(row => row.dataset.kind)")) == {"hit_resolved"}
    # its reason code breaks only after an underscore, never inside a word (it was "VERIFIED_MANUAL" / "LY")
    code = page.locator("#kyc-timeline tbody tr[data-kind=hit_resolved] code").first
    assert code.inner_text() == "VERIFIED_MANUALLY"
    assert code.evaluate(WORDS_ON_ONE_LINE)
    page.select_option("#kyc-filter-kind", "")
    assert page.locator("#kyc-timeline tbody tr:visible").count() == everything
    page.evaluate("document.activeElement.blur()")

    # the shortcuts panel, and keys do nothing while typing in a field
    page.keyboard.press("?")
    page.wait_for_selector("#kyc-shortcuts:not([hidden])")
    shot("case-shortcuts")
    page.keyboard.press("Escape")
    assert page.locator("#kyc-shortcuts").is_hidden()
    page.keyboard.press("c")
    page.keyboard.type("and checked")  # typed into the comment: the "a" and "d" choose no decision
    assert page.locator("#id_comment").input_value() == "and checked"
    assert page.locator(".kyc-decision-radio:checked").count() == 0
    page.keyboard.press("Escape")

    # approve without the mouse: "a", a reason with the arrow key, Ctrl+Enter
    page.keyboard.press("a")
    assert page.evaluate("document.activeElement.id") == "id_reason_code"
    offered = page.locator("#id_reason_code option:not([hidden])").all_inner_texts()
    assert "Suspected fraud or tampering" not in offered  # approve reasons only
    page.keyboard.press("ArrowDown")
    chosen = page.locator("#id_reason_code").input_value()
    assert chosen == "VERIFIED_MANUALLY"  # the usual approve reason comes first
    shot("case-approve-keyboard")
    with page.expect_navigation():
        page.keyboard.press("Control+Enter")
    assert page.url.endswith("/admin/django_kyc/reviewqueueitem/")
    messages = page.locator(".messagelist:not(#kyc-worker-health) li").all_inner_texts()
    assert len(messages) == 1
    assert messages[0].startswith("Approved: Jane Lovelace")
    assert "Perhaps it was deleted" not in page.content()
    shot("case-approved-back-on-queue")
    verification.refresh_from_db()
    assert verification.status == VerificationStatus.APPROVED
    row = AuditEvent.objects.get(object_id=str(verification.pk), to_status="approved")
    assert (row.actor.username, row.reason_code, row.reason) == ("rita", chosen, "and checked")


def test_a_second_reviewer_confirms_a_four_eyes_proposal_on_the_case_page(
    live_server: Any, page: Any, shot: Any, make_applicant: Any
) -> None:
    applicant = make_applicant(last_name="Risky", risk_level="high")
    verification = in_review(applicant)
    reviewer("rita")
    reviewer("sam", "approve_high_risk")
    base = live_server.url
    with override_settings(DJANGO_KYC={**settings.DJANGO_KYC, "FOUR_EYES": True}):
        sign_in_admin(page, base, "rita")
        page.goto(f"{base}/admin/django_kyc/reviewqueueitem/{verification.pk}/change/")
        assert "risk_level:high" in page.locator("#kyc-four-eyes-rule").inner_text()
        page.keyboard.press("d")
        page.keyboard.press("ArrowDown")
        page.locator("#id_reason_code").select_option("SUSPECTED_FRAUD")
        page.fill("#id_comment", "High-risk profile, documents inconsistent.")
        with page.expect_navigation():
            page.click("#kyc-submit-decision")
        messages = page.locator(".messagelist:not(#kyc-worker-health) li").all_inner_texts()
        assert len(messages) == 1
        assert "a second reviewer must confirm it" in messages[0]
        verification.refresh_from_db()
        assert verification.status == VerificationStatus.REVIEW
        proposal = ReviewDecision.objects.get()

        page.context.clear_cookies()
        sign_in_admin(page, base, "sam")
        page.goto(f"{base}/admin/django_kyc/reviewqueueitem/{verification.pk}/change/")
        box = page.locator(f"#kyc-proposal-{proposal.pk}")
        assert "rita proposed decline (SUSPECTED_FRAUD)" in box.inner_text()
        shot("case-four-eyes-second-reviewer")
        box.locator("input[name=comment]").fill("Agree with the proposal.")
        with page.expect_navigation():
            box.locator(".kyc-confirm-proposal").click()
        assert page.url.endswith("/admin/django_kyc/reviewqueueitem/")
        messages = page.locator(".messagelist:not(#kyc-worker-health) li").all_inner_texts()
        assert len(messages) == 1
        assert messages[0].startswith("Confirmed: decline on Jane Risky")
        shot("case-four-eyes-confirmed")
    verification.refresh_from_db()
    proposal.refresh_from_db()
    assert verification.status == VerificationStatus.DECLINED
    assert proposal.confirmed_by is not None
    assert proposal.confirmed_by.username == "sam"
