"""Click through the running demo in a real headless browser and save screenshots.

This is a manual smoke check of the whole stack (templates, JavaScript, API, qcluster, webhooks, admin),
not part of the pytest suite: it needs ``make demo`` (or migrate + kyc_demo + qcluster + runserver)
running, Chromium installed and ``pip install playwright`` (no ``playwright install``; it drives the
system Chromium). Run it from the repository root::

    python -m example_project.browser_check --base-url http://127.0.0.1:8000 --out /tmp/kyc-browser-check

What it does:

1. signs in as ``demo``, creates the applicant "Ada Lovelace-Resubmit" (or reuses the one a previous run
   left waiting for a new document), uploads a generated PNG through the file input and starts a *direct*
   verification, then waits for the page's 2-second polling to show the sandbox asking for a new document
   (the ``resubmit`` rule), and for the upload and start controls to open again;
2. uploads again and starts a *hosted* verification, opens the client link (the sandbox capture page),
   picks "Send to manual review" and waits for the page to show ``review``;
3. signs in to the admin as ``admin``, approves that verification from the review queue with a reason
   code and a comment, and waits for the applicant's page to show it approved;
4. takes screenshots of each step plus the audit timeline, the webhook inbox and the API docs.

It exits non-zero on the first step that fails and prints what it saw.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    FilePayload,
    Page,
    Response,
    sync_playwright,
)

from example_project.onboarding.images import identity_card_png

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEFAULT_OUT = Path(tempfile.gettempdir()) / "kyc-browser-check"
DECISION_TIMEOUT_MS = 90_000  # submission task + sandbox decision delay + webhook processing, with headroom


class Check:
    """Shared state of one run: where to go, where screenshots go, and what the pages complained about."""

    def __init__(self, base_url: str, out_dir: Path) -> None:
        self.base_url = base_url.rstrip("/")
        self.out_dir = out_dir
        self.page_errors: list[str] = []
        self.shots: list[Path] = []

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def watch(self, page: Page) -> Page:
        """Record script errors, console errors and failed responses, except the 404 that is expected."""
        page.on("pageerror", lambda error: self.page_errors.append(f"{page.url}: {error}"))
        page.on("console", lambda message: self._console(page, message))
        page.on("response", self._response)
        return page

    def _console(self, page: Page, message: ConsoleMessage) -> None:
        # failed requests are reported by _response, with their method and URL
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.page_errors.append(f"{page.url}: console: {message.text}")

    def _response(self, response: Response) -> None:
        if response.status >= 400:  # the flow expects none: the page asks for its applicant with ?mine=true
            self.page_errors.append(f"{response.request.method} {response.url} -> {response.status}")

    def shot(self, page: Page, name: str) -> None:
        path = self.out_dir / f"{len(self.shots) + 1:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        self.shots.append(path)
        print(f"  screenshot {path}")


def step(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def sign_in(check: Check, page: Page, username: str, password: str, *, admin: bool = False) -> None:
    page.goto(check.url("/admin/login/?next=/admin/" if admin else "/"))
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    if not admin:
        check.shot(page, "login")
    page.click("input[type=submit]" if admin else "#login-submit")
    page.wait_for_url(check.url("/admin/" if admin else "/"))


def statuses_seen(page: Page) -> list[str]:
    seen: list[str] = page.locator("#status-log li").evaluate_all("items => items.map(i => i.dataset.status)")
    return seen


def wait_for_status(page: Page, status: str) -> None:
    page.wait_for_selector(f'#verification-status[data-status="{status}"]', timeout=DECISION_TIMEOUT_MS)


def start_verification(page: Page, backend: str) -> str:
    """Start one and wait until the page follows it (it may still show an older, finished one)."""
    previous = page.inner_text("#verification-id") if page.is_visible("#verification-panel") else ""
    page.check(f"#backend-{backend}")
    page.click("#start-verification")
    page.wait_for_function(
        "previous => { const id = document.getElementById('verification-id').textContent;"
        " return id && id !== previous; }",
        arg=previous,
    )
    return page.inner_text("#verification-id")


def upload_document(page: Page, name: str) -> None:
    documents_before = page.locator("#document-list li").count()
    step("applicant: upload a document image through the file input")
    page.select_option("#document-type", "passport")
    image: FilePayload = {"name": "passport.png", "mimeType": "image/png", "buffer": identity_card_png(name)}
    page.set_input_files("#document-file", files=image)
    page.click("#upload-document")
    page.wait_for_function(
        "count => document.querySelectorAll('#document-list li').length > count", arg=documents_before
    )


def applicant_flow(check: Check, context: BrowserContext, username: str, password: str) -> tuple[Page, str]:
    page = check.watch(context.new_page())
    step(f"applicant: sign in as {username}")
    sign_in(check, page, username, password)
    page.wait_for_selector("#applicant-form:not([hidden]), #applicant-summary:not([hidden])")
    if page.is_visible("#applicant-form"):
        step("applicant: create applicant Ada Lovelace-Resubmit (the sandbox asks for a new document)")
        page.fill("#first_name", "Ada")
        page.fill("#last_name", "Lovelace-Resubmit")
        page.fill("#date_of_birth", "1990-12-10")
        page.fill("#nationality", "gb")
        page.click("#create-applicant")
        page.wait_for_selector("#applicant-summary:not([hidden])")
    else:
        step("applicant: reusing the applicant from an earlier run")
    name = page.inner_text("#applicant-name")
    step(f"applicant: {name} ({page.inner_text('#applicant-reference')})")
    if page.is_disabled("#upload-document"):
        raise AssertionError(
            f"{username}'s applicant is {page.inner_text('#applicant-status')}: the page rightly offers nothing "
            "more. Run the check as a user without an applicant (--username), or on a fresh demo (make clean)."
        )

    upload_document(page, name)
    step("applicant: start a direct verification and watch it")
    start_verification(page, "sandbox")
    wait_for_status(page, "resubmission_requested")
    page.wait_for_function("!document.getElementById('upload-document').disabled")
    step(f"applicant: direct flow asks for a new document; the page saw {' -> '.join(statuses_seen(page))}")
    check.shot(page, "onboarding-direct-resubmission")

    upload_document(page, name)
    step("applicant: start a hosted verification")
    verification_id = start_verification(page, "sandbox_hosted")
    page.wait_for_selector("#client-link-box:not([hidden])", timeout=DECISION_TIMEOUT_MS)
    check.shot(page, "onboarding-hosted-link")
    with context.expect_page() as opened:
        page.click("#client-link")
    capture = check.watch(opened.value)
    capture.wait_for_load_state()
    step("applicant: on the sandbox capture page, choose 'Send to manual review'")
    capture.select_option("#outcome", "needs_review")
    check.shot(capture, "sandbox-capture-page")
    capture.click("#finish")
    capture.wait_for_selector("#result")
    if "Thank you" not in capture.inner_text("#result"):
        raise AssertionError(f"capture page did not accept: {capture.inner_text('#result')!r}")
    capture.close()
    wait_for_status(page, "review")
    step(f"applicant: hosted flow reached review; the page saw {' -> '.join(statuses_seen(page))}")
    check.shot(page, "onboarding-hosted-review")
    return page, verification_id


def reviewer_flow(check: Check, context: BrowserContext, username: str, password: str, verification_id: str) -> None:
    page = check.watch(context.new_page())
    step(f"reviewer: sign in to the admin as {username}")
    sign_in(check, page, username, password, admin=True)
    page.goto(check.url("/admin/django_kyc/reviewqueueitem/"))
    checkbox = page.locator(f'input[name="_selected_action"][value="{verification_id}"]')
    if checkbox.count() != 1:
        raise AssertionError(f"verification {verification_id} is not in the review queue")
    check.shot(page, "admin-review-queue")
    step("reviewer: select it, choose the 'Approve' action")
    checkbox.check()
    page.select_option("select[name=action]", "approve")
    page.click("button[name=index]")
    page.wait_for_selector("#id_reason_code")
    page.select_option("#id_reason_code", "VERIFIED_MANUALLY")
    page.fill("#id_comment", "Photo and data match; checked by the browser smoke test.")
    check.shot(page, "admin-decision-form")
    page.click("#confirm-decision")
    page.wait_for_selector(".messagelist")
    messages = page.inner_text(".messagelist")
    step(f"reviewer: admin says {messages.strip()!r}")
    if "Approve: 1 verification" not in messages:
        raise AssertionError("the approval was not confirmed")
    check.shot(page, "admin-after-approval")

    page.goto(check.url(f"/admin/django_kyc/verification/{verification_id}/change/"))
    check.shot(page, "admin-verification")
    page.click(".field-applicant a, .field-applicant .readonly a")
    page.wait_for_selector("#auditevent_set-group, .inline-group")
    check.shot(page, "admin-applicant-audit-timeline")
    page.goto(check.url("/admin/django_kyc/webhookevent/"))
    check.shot(page, "admin-webhook-inbox")
    page.goto(check.url("/kyc/api/docs/"))
    page.wait_for_selector(".swagger-ui .info", timeout=30_000)
    check.shot(page, "api-docs")


def run(browser: Browser, args: argparse.Namespace, check: Check) -> None:
    applicant_context = browser.new_context(viewport={"width": 1200, "height": 900})
    reviewer_context = browser.new_context(viewport={"width": 1400, "height": 900})
    page, verification_id = applicant_flow(check, applicant_context, args.username, args.password)
    reviewer_flow(check, reviewer_context, args.admin_username, args.admin_password, verification_id)
    step("applicant: the page (still polling) shows the reviewer's decision")
    wait_for_status(page, "approved")
    step(f"applicant: the page saw {' -> '.join(statuses_seen(page))}")
    check.shot(page, "onboarding-after-review")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="Screenshot directory.")
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="Chromium executable.")
    parser.add_argument("--username", default="demo")
    parser.add_argument("--password", default="demo")
    parser.add_argument("--admin-username", default="admin")
    parser.add_argument("--admin-password", default="admin")
    parser.add_argument("--headed", action="store_true", help="Show the browser window.")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    check = Check(args.base_url, out_dir)
    launch: dict[str, Any] = {"executable_path": args.chromium, "args": CHROMIUM_ARGS, "headless": not args.headed}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**launch)
        try:
            run(browser, args, check)
        except Exception as exc:
            step(f"FAILED: {type(exc).__name__}: {exc}")
            for context in browser.contexts:
                for page in context.pages:
                    check.shot(page, "failure")
            return 1
        finally:
            for error in check.page_errors:
                print(f"  problem: {error}")
            browser.close()
    if check.page_errors:
        step("FAILED: the pages reported errors or failed requests (listed above)")
        return 1
    step(f"OK: {len(check.shots)} screenshots in {out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
