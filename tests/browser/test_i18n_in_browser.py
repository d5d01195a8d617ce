"""The case page and the onboarding page in German and Spanish, in a real browser at 1366x768: what a person
sees holds no English string of ours (the onboarding script's messages included), German's long words cut
nothing off at the side, and dates follow the language."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User

from django_kyc.models import Verification
from django_kyc.status import VerificationStatus
from tests.browser.test_review_in_browser import sign_in_admin
from tests.support.cases import case_in_review, reviewer
from tests.support.files import make_png
from tests.test_i18n import entries, find, forms, same_word

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH, HEIGHT = 1366, 768
#: What the browser shows, as a person reads it: literal values (``<code>``, ``<kbd>``) are data, not text of
#: ours, and are hidden before the text is read (after the screenshot).
VISIBLE_TEXT = """() => {
  const style = document.createElement("style");
  style.textContent = "code, kbd { display: none !important; }";
  document.head.append(style);
  const shown = [document.body.innerText];
  for (const element of document.querySelectorAll("[title], [placeholder], [aria-label], [alt]")) {
    if (!element.checkVisibility()) continue;
    for (const name of ["title", "placeholder", "aria-label", "alt"]) {
      if (element.getAttribute(name)) shown.push(element.getAttribute(name));
    }
  }
  return shown.join("\\n");
}"""


@pytest.fixture
def browser_in(chromium_browser: Any) -> Iterator[Any]:
    """A new tab at a laptop's size whose browser asks for ``language`` (Accept-Language and navigator)."""
    contexts = []

    def open_tab(language: str) -> Any:
        context = chromium_browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, locale=language)
        contexts.append(context)
        tab = context.new_page()
        tab.set_default_timeout(20_000)
        return tab

    yield open_tab
    for context in contexts:
        context.close()


def english_left(page: Any, language: str) -> list[str]:
    """The English strings of our catalogs (not written the same in ``language``) still on the page."""
    texts = [" ".join(line.split()) for line in page.evaluate(VISIBLE_TEXT).splitlines() if line.strip()]
    catalog = entries(language)
    untranslated = {text: entry for entry in catalog for text in forms(entry) if not same_word(text, entry)}
    return sorted({entry.msgid for entry in find(texts, untranslated)})


def check(page: Any, screenshot: Any, name: str, language: str) -> None:
    screenshot_path = screenshot.directory / f"{name}.png"
    page.screenshot(path=str(screenshot_path), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH, f"{name}: cut off at the side"
    assert page.evaluate("document.documentElement.lang") == language
    assert english_left(page, language) == [], name
    # nor inside a cell: a word too long for its column wraps, it is not clipped
    clipped = page.evaluate(
        "() => [...document.querySelectorAll('td, th')].filter(cell => cell.scrollWidth > cell.clientWidth + 1)"
        ".map(cell => cell.innerText)"
    )
    assert clipped == [], name


@pytest.mark.parametrize(
    ("language", "heading", "written", "read"),
    [
        ("de", "Antragsteller und was der Anbieter gelesen hat", r"\d\d\.\d\d\.\d{4} \d\d:\d\d:\d\d", "12.10.1990"),
        ("es", "El solicitante y lo que leyó el proveedor", r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d", "12/10/1990"),
    ],
    ids=["de", "es"],
)
def test_the_case_page_in_the_reviewers_language(
    live_server: Any,
    browser_in: Any,
    screenshot: Any,
    make_applicant: Any,
    language: str,
    heading: str,
    written: str,
    read: str,
) -> None:
    case_in_review(make_applicant(last_name="Lovelace", date_of_birth="1990-12-10", country="GB", with_document=False))
    reviewer("rita")
    page, base = browser_in(language), live_server.url
    sign_in_admin(page, base, "rita")
    page.goto(f"{base}/admin/django_kyc/reviewqueueitem/")
    with page.expect_navigation():
        page.keyboard.press("n")  # the next case: the shortcuts work whatever the language
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=page.locator(".kyc-doc-image").first.element_handle()
    )
    assert page.inner_text("#kyc-compare h2") == heading
    assert re.search(written, page.inner_text(".kyc-facts"))  # "waiting since", with seconds
    assert read in page.inner_text('#kyc-compare tr[data-state="mismatch"]')  # the date of birth the provider read
    page.locator("#kyc-aml summary").first.click()  # the evidence open: its labels are ours too
    check(page, screenshot, f"i18n-{language}-case", language)


def test_the_onboarding_page_in_german(live_server: Any, browser_in: Any, screenshot: Any) -> None:
    User.objects.create_user(username="ada", password="pw")
    page, base = browser_in("de"), live_server.url
    page.goto(f"{base}/onboarding/login/")
    assert page.inner_text("h1") == "Anmelden"
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
    assert page.inner_text("#flash") == "Antragsteller angelegt. Laden Sie als Nächstes ein Dokument hoch."
    assert page.inner_text("#applicant-dob") == "10. Dezember 1990"
    page.set_input_files(
        "#document-file", files=[{"name": "passport.png", "mimeType": "image/png", "buffer": make_png(8, 8)}]
    )
    page.click("#upload-document")
    page.wait_for_selector("#document-list li")
    assert re.match(
        r"Reisepass · 1 Datei · hochgeladen am \d\d\.\d\d\.\d{4}, \d\d:\d\d:\d\d", page.inner_text("#document-list li")
    )
    page.check("#backend-sandbox")
    page.click("#start-verification")
    page.wait_for_selector('#verification-status[data-status="approved"]', timeout=30_000)
    page.wait_for_selector("#applicant-status[data-status='verified']")
    assert page.inner_text("#flash") == "Verifizierung genehmigt: Ihre Identität ist bestätigt."
    assert page.inner_text("#verification-status") == "Genehmigt"
    assert re.fullmatch(r"\d\d\.\d\d\.\d{4}, \d\d:\d\d:\d\d", page.inner_text("#verification-updated"))
    assert Verification.objects.get().status == VerificationStatus.APPROVED
    check(page, screenshot, "i18n-de-onboarding", "de")

    # the switcher: Spanish for this visitor from now on (Django's set_language, a cookie)
    with page.expect_navigation():
        page.click('#language-switcher button[value="es"]')
    page.wait_for_selector("#applicant-summary:not([hidden])")
    assert page.inner_text("h1") == "Verifique su identidad"
    assert page.evaluate("document.documentElement.lang") == "es"
