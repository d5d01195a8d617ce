"""The reviewer's lists on a 1366 x 768 laptop screen: people rather than UUIDs, and nothing cut off.

Each page is loaded in Chromium at 1366 px wide, screenshotted whole (``artifacts/browser/queues-*.png``) and
measured: the document must not scroll sideways and the results table must end inside the window.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.utils import timezone

from django_kyc.models import AmlCheck, AmlHit, Applicant, ProposalStatus, ReviewDecision, Verification
from django_kyc.status import AmlStatus, RiskLevel, VerificationStatus
from tests.browser.conftest import ARTIFACTS
from tests.support.factories import make_verification

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH, HEIGHT = 1366, 768
V = VerificationStatus
#: Long names and references are what push a column wide.
PEOPLE = [
    ("Maximiliane Alexandra", "von Hohenberg-Schwarzenstein", "DE", RiskLevel.HIGH),
    ("Ana María", "García Fernández de Córdoba", "ES", RiskLevel.MEDIUM),
    ("Jan", "Kowalski", "PL", RiskLevel.LOW),
    ("Aoife", "Ní Bhriain", "IE", RiskLevel.LOW),
]


@pytest.fixture
def laptop_page(chromium_browser: Any) -> Iterator[Any]:
    context = chromium_browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


def reviewer(username: str, *, pii: bool) -> User:
    user = User.objects.create_user(username=username, password="pw", is_staff=True)
    perms = Permission.objects.filter(content_type__app_label="django_kyc")
    if not pii:
        perms = perms.exclude(codename="view_applicant_pii")
    user.user_permissions.set(perms)
    return user


def seed_queues() -> dict[str, Any]:
    """Verifications waiting for hours and days, PEP and sanctions hits, a proposal, and decisions made today
    (one day of dashboard data)."""
    now = timezone.now()
    applicants = []
    for position, (first, last, country, risk) in enumerate(PEOPLE):
        applicant = Applicant.objects.create(
            first_name=first, last_name=last, country=country, nationality=country, email=f"p{position}@example.com"
        )
        Applicant.objects.filter(pk=applicant.pk).update(risk_level=risk)
        applicant.refresh_from_db()
        applicants.append(applicant)
        waiting = make_verification(
            applicant,
            V.REVIEW if position % 2 == 0 else V.ERROR,
            backend="sandbox" if position % 2 == 0 else "sandbox_hosted",
            provider_status="manual_review",
            reasons=["DOCUMENT_BLURRY", "FACE_MISMATCH"] if position == 0 else ["DOCUMENT_EXPIRED"],
        )
        Verification.objects.filter(pk=waiting.pk).update(updated_at=now - timedelta(hours=3 + 20 * position))
        for decided in (V.APPROVED, V.DECLINED, V.APPROVED):
            make_verification(applicant, decided, decided_at=now + timedelta(minutes=20 * (position + 1)))
    pep, sanctioned = applicants[2], applicants[0]
    for applicant, topics, caption, score in [
        (pep, ["role.pep"], "Jan Kowalski (Member of Parliament)", 0.91),
        (sanctioned, ["sanction", "crime.fin"], "M. A. von Hohenberg", 0.97),
    ]:
        check = AmlCheck.objects.create(applicant=applicant, backend="sandbox", status=AmlStatus.POTENTIAL_MATCH)
        AmlHit.objects.create(aml_check=check, entity_id=caption, caption=caption, score=score, topics=topics)
    proposer = User.objects.create_user(username="priya", password="pw", is_staff=True)
    ReviewDecision.objects.create(
        applicant=sanctioned,
        verification=sanctioned.verifications.filter(status=V.REVIEW).first(),
        decision="decline",
        reason_code="SANCTIONS_MATCH",
        rule="risk_level:high",
        proposed_by=proposer,
        status=ProposalStatus.PROPOSED,
    )
    return {"applicants": applicants, "pep": pep}


def sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/")


def shoot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def assert_fits(page: Any, what: str) -> None:
    """No sideways scrolling, of the page or of the admin's results box (which scrolls on its own), and the
    results table (when there is one) ends inside the window."""
    widths = page.evaluate(
        """() => {
            const table = document.querySelector('#result_list, #kyc-backend-stats');
            const box = document.querySelector('#changelist .results');
            return {
                scroll: document.documentElement.scrollWidth,
                client: document.documentElement.clientWidth,
                table: table ? table.getBoundingClientRect().right : 0,
                box_scroll: box ? box.scrollWidth : 0,
                box_client: box ? box.clientWidth : 0,
            };
        }"""
    )
    assert widths["scroll"] <= widths["client"] <= WIDTH, f"{what} scrolls sideways: {widths}"
    assert widths["box_scroll"] <= widths["box_client"], f"{what}: the results scroll sideways: {widths}"
    assert widths["table"] <= widths["client"], f"{what}: the table runs off the screen: {widths}"


def test_queues_show_people_and_fit_a_laptop_screen(live_server: Any, laptop_page: Any) -> None:
    seeded = seed_queues()
    reviewer("rita", pii=True)
    page, base = laptop_page, live_server.url
    sign_in(page, base, "rita")
    assert page.locator("tr.model-reviewdashboard a").first.get_attribute("href") == (
        "/admin/django_kyc/reviewdashboard/"
    )
    shoot(page, "queues-admin-index")

    page.goto(f"{base}/admin/django_kyc/reviewqueueitem/")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == len(PEOPLE)
    assert "von Hohenberg-Schwarzenstein" in page.inner_text("#result_list")
    ages = page.locator("#result_list .kyc-age").all_inner_texts()
    assert ages == ["2 d", "1 d", "23 h", "3 h"]  # oldest first
    lines = page.eval_on_selector_all("#result_list .kyc-age", "spans => spans.map(s => s.getClientRects().length)")
    assert lines == [1] * len(PEOPLE)  # each age on one line, however narrow its column
    shoot(page, "queues-review-queue")
    assert_fits(page, "review queue")

    # a reviewer finds the applicant by name
    page.fill("#searchbar", "Kowalski")
    page.press("#searchbar", "Enter")
    page.wait_for_url("**q=Kowalski**")
    assert page.locator("#result_list tbody tr").count() == 1
    assert page.get_attribute("#result_list .kyc-reference", "title") == seeded["pep"].reference

    page.goto(f"{base}/admin/django_kyc/amlqueueitem/")
    table = page.inner_text("#result_list")
    assert {"PEP", "Sanction, Financial crime"} <= set(
        page.locator("#result_list td.field-topic_labels").all_inner_texts()
    )
    assert "role.pep" not in table
    pep_row = page.locator("#result_list tbody tr", has_text="Member of Parliament")
    assert "High" in pep_row.inner_text()
    shoot(page, "queues-aml-queue")
    assert_fits(page, "AML queue")

    page.goto(f"{base}/admin/django_kyc/reviewdecision/")
    assert "von Hohenberg-Schwarzenstein" in page.inner_text("#result_list")
    shoot(page, "queues-proposals")
    assert_fits(page, "four-eyes proposals")

    page.goto(f"{base}/admin/django_kyc/verification/")
    assert page.locator("#result_list tbody tr").count() == 4 * len(PEOPLE)
    shoot(page, "queues-verifications")
    assert_fits(page, "verification list")

    page.goto(f"{base}/admin/django_kyc/applicant/")
    shoot(page, "queues-applicants")
    assert_fits(page, "applicant list")

    applicant = seeded["applicants"][0]
    page.goto(f"{base}/admin/django_kyc/applicant/{applicant.pk}/change/")
    assert page.locator("#request-erasure").is_visible()
    assert page.locator("a.deletelink").count() == 0
    assert page.locator("input[name=_addanother]").count() == 0
    shoot(page, "queues-applicant-page")
    assert_fits(page, "applicant page")

    page.click("#request-erasure")
    page.wait_for_selector("#confirm-erasure")
    shoot(page, "queues-erasure-request")
    assert_fits(page, "erasure request page")


def test_masked_names_for_staff_without_the_pii_permission(live_server: Any, laptop_page: Any) -> None:
    seed_queues()
    reviewer("nina", pii=False)
    page, base = laptop_page, live_server.url
    sign_in(page, base, "nina")
    page.goto(f"{base}/admin/django_kyc/reviewqueueitem/")
    table = page.inner_text("#result_list")
    assert "Kowalski" not in table
    assert "•••" in table
    shoot(page, "queues-review-queue-masked")
    assert_fits(page, "review queue (masked)")


@pytest.mark.parametrize("days", [1, 30])
def test_dashboard_with_one_day_of_data_is_readable(live_server: Any, laptop_page: Any, days: int) -> None:
    seed_queues()
    reviewer("lena", pii=False)
    page, base = laptop_page, live_server.url
    sign_in(page, base, "lena")
    page.click("tr.model-reviewdashboard a")
    page.wait_for_selector("#chart-status svg")
    page.goto(f"{base}/admin/django_kyc/reviewdashboard/?days={days}")
    bars = page.locator("#chart-status rect.kyc-bar")
    assert bars.count() >= 3  # today's column: approved, declined, in review/error stacked
    boxes = [bars.nth(i).bounding_box() for i in range(bars.count())]
    assert all(4 <= box["width"] <= 40 and box["height"] >= 2 for box in boxes), boxes
    assert page.locator("#chart-status text.kyc-total").first.text_content() == str(4 * len(PEOPLE))
    assert page.locator("#chart-status text.kyc-axis").count() >= 3
    shoot(page, f"queues-dashboard-{days}d")
    assert_fits(page, f"dashboard ({days} days)")
