"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

Chromium comes from the Debian package (``/usr/bin/chromium``, installed by ``.ci/run`` and ``make
test-browser``); Playwright never downloads a browser. Locally, missing Chromium or Playwright skips these
tests; with ``CI=true`` it fails them. Screenshots go to ``KYC_ARTIFACTS`` (default ``artifacts/browser``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.services import require_service

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("KYC_ARTIFACTS", Path(__file__).resolve().parents[2] / "artifacts" / "browser"))


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require_service("Playwright", False, "pip install playwright (the [test] extra has it)")
    require_service("Chromium", CHROMIUM.exists(), "apt-get install chromium")
    from example_project.browser_check import CHROMIUM_ARGS  # imports Playwright, so only once it is there

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,  # the same flags as the demo's smoke check
        )
        yield browser
        browser.close()


#: A laptop's screen, the size every screenshot is taken at: nothing may be cut off at its side.
WIDTH, HEIGHT = 1366, 768


@pytest.fixture
def browser_page(chromium_browser: Any) -> Iterator[Any]:
    context = chromium_browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


@pytest.fixture
def screenshot(browser_page: Any) -> Any:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        browser_page.screenshot(path=str(path), full_page=True)
        width = browser_page.evaluate("document.documentElement.scrollWidth")
        assert width <= browser_page.viewport_size["width"], f"{name}: {width} px wide, cut off at the side"
        return path

    take.directory = ARTIFACTS  # type: ignore[attr-defined]
    return take
