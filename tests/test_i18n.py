"""django_kyc speaks German and Spanish: the catalogs are complete and compiled, and what a user sees in those
languages holds no English string of ours.

The catalogs are read with :mod:`tests.support.po`, so these tests need no GNU gettext, except the one that
extracts the marked strings again to find any the catalogs miss (``scripts/messages.sh make``).

Each entry of :data:`PAGES` is one rendering a user sees. It is rendered in English and in each language, and
every string of our catalog found in the English rendering must appear translated in the other, while no
English msgid of ours may appear in it verbatim (unless its translation is the same word). A page joins the
check with one line in :data:`PAGES`.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from html.parser import HTMLParser
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import Client, override_settings
from django.utils import translation
from rest_framework.test import APIClient

import django_kyc
from django_kyc.models import Applicant, Verification
from django_kyc.services import submission
from django_kyc.services.audit import Change
from django_kyc.status import Source, VerificationStatus
from tests.support.factories import create_user, make_verification
from tests.support.files import make_pdf, make_png
from tests.support.kyc_settings import kyc_settings_with
from tests.support.po import Entry, read_mo, read_po
from tests.support.services import require_service

ROOT = Path(__file__).resolve().parent.parent
LOCALE = Path(django_kyc.__file__).resolve().parent / "locale"
#: Every catalog whose strings a page may show; the page check looks for the strings of all of them.
CATALOGS = (LOCALE,)
#: The languages django_kyc ships besides English (the catalogs under django_kyc/locale/).
LANGUAGES = ("de", "es")


def po_path(language: str, locale: Path = LOCALE) -> Path:
    return locale / language / "LC_MESSAGES" / "django.po"


@cache
def entries(language: str) -> tuple[Entry, ...]:
    """The entries of every catalog in ``language``, without their headers."""
    return tuple(entry for locale in CATALOGS for entry in read_po(po_path(language, locale))[1:])


CATALOG_FILES = [
    pytest.param(locale, language, id=f"{locale.parent.name}-{language}")
    for locale in CATALOGS
    for language in LANGUAGES
]


# --- the catalogs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("locale", "language"), CATALOG_FILES)
def test_every_entry_is_translated_and_none_is_fuzzy(locale: Path, language: str) -> None:
    header, *rest = read_po(po_path(language, locale))
    assert header.msgid == ""
    assert not header.fuzzy  # msgfmt would leave a fuzzy header out, and with it the charset
    assert f"Language: {language}\\n" in json.dumps(header.value)
    assert [entry.msgid for entry in rest if not entry.translated] == []
    assert [entry.msgid for entry in rest if entry.fuzzy] == []


@pytest.mark.parametrize(("locale", "language"), CATALOG_FILES)
def test_the_committed_mo_says_what_its_po_says(locale: Path, language: str) -> None:
    """The wheel ships the committed .mo; a .po edited without ``scripts/messages.sh compile`` fails here."""
    po = {entry.key: entry.value for entry in read_po(po_path(language, locale))}
    # msgfmt leaves the template's creation date out of the compiled header
    po[""] = "".join(line for line in po[""].splitlines(keepends=True) if not line.startswith("POT-Creation-Date:"))
    assert read_mo(po_path(language, locale).with_suffix(".mo")) == po


def test_every_language_has_the_same_entries() -> None:
    keys = {language: {entry.key for entry in entries(language)} for language in LANGUAGES}
    assert keys["de"] == keys["es"]


def test_the_catalogs_hold_every_marked_string(tmp_path: Path) -> None:
    """Extract the marked strings again (as ``scripts/messages.sh make`` does) into a copy of the package: a
    string marked in the code but missing from the catalogs would be shown in English to everyone."""
    require_service("GNU gettext", shutil.which("xgettext") is not None, "apt-get install gettext")
    package = tmp_path / "django_kyc"
    shutil.copytree(
        LOCALE.parent, package, ignore=shutil.ignore_patterns("__pycache__", "*.mo", "testing", "migrations")
    )
    script = ROOT / "scripts" / "messages.sh"
    subprocess.run(
        ["bash", str(script), "make"],
        check=True,
        capture_output=True,
        env={
            "PATH": "/usr/bin:/bin",
            "KYC_MESSAGES_PACKAGE": str(package),
            "DJANGO_ADMIN": str(Path(sys.executable).parent / "django-admin"),
        },
        timeout=120,
    )
    for language in LANGUAGES:
        extracted = {entry.key for entry in read_po(package / "locale" / language / "LC_MESSAGES" / "django.po")}
        committed = {entry.key for entry in read_po(po_path(language))}
        assert extracted - committed == set(), f"marked but not in the {language} catalog"
        assert committed - extracted == set(), f"in the {language} catalog but no longer marked"


# --- what a user sees --------------------------------------------------------------------------------------


class TextCollector(HTMLParser):
    """The text a person reads on an HTML page: text nodes (not scripts or styles) and the attributes a
    browser shows or reads out."""

    SHOWN_ATTRIBUTES = ("title", "alt", "placeholder", "aria-label")

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        values = dict(attrs)
        shown = [values.get(name) for name in self.SHOWN_ATTRIBUTES]
        if tag == "input" and values.get("type") in ("submit", "button", "reset"):
            shown.append(values.get("value"))
        self.texts += [value for value in shown if value]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.texts.append(data)


def json_strings(value: Any) -> Iterator[str]:
    """The string values of a JSON document (messages), not its keys (field names)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from json_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from json_strings(item)


def shown_texts(response: HttpResponse) -> list[str]:
    if response["Content-Type"].startswith("application/json"):
        texts = list(json_strings(json.loads(response.content)))
    else:
        collector = TextCollector()
        collector.feed(response.content.decode())
        texts = collector.texts
    return [" ".join(text.split()) for text in texts]


@cache
def pattern(text: str) -> re.Pattern[str]:
    """A catalog string as a regular expression: a placeholder matches anything, and a word at either end
    matches only a whole word ("Open" is not found in "Opened")."""
    parts = re.split(r"%\(\w+\)[sdr]", text.replace("%%", "%"))
    body = "(.+?)".join(re.escape(" ".join(part.split())) for part in parts)
    start = r"\b" if re.match(r"\w", text) else ""
    end = r"\b" if re.search(r"\w$", text) else ""
    return re.compile(f"{start}{body}{end}")


def forms(entry: Entry) -> list[str]:
    return [entry.msgid] + ([entry.msgid_plural] if entry.msgid_plural else [])


def find(texts: Iterable[str], candidates: dict[str, Entry]) -> list[Entry]:
    """The entries whose text (a key of ``candidates``) appears in ``texts``, longest first: each match is
    cut out before shorter strings are looked for, so "Approve" is not found again inside "Approved"."""
    found: list[Entry] = []
    for original in texts:
        text = original
        for candidate in sorted(candidates, key=len, reverse=True):
            if pattern(candidate).search(text):
                found.append(candidates[candidate])
                text = pattern(candidate).sub("\x00", text)
    return found


class Scene:
    """What the pages are rendered from, built afresh for every rendering: rendering a page may change what
    the next rendering of it would show (a capture page finished, an applicant created)."""

    def __init__(self, make_applicant: Callable[..., Applicant], capture_on_commit: Any) -> None:
        self.make_applicant = make_applicant
        self.capture_on_commit = capture_on_commit
        self._numbers = count()

    def user(self, *perms: str, staff: bool = False) -> User:
        return create_user(f"person-{next(self._numbers)}", *perms, staff=staff)

    def applicant(self, user: User | None = None, **fields: Any) -> Applicant:
        return self.make_applicant(user=user or self.user(), with_document=False, **fields)

    def api(self, language: str, user: User | None = None) -> APIClient:
        client = APIClient(HTTP_ACCEPT_LANGUAGE=language)
        if user is not None:
            client.force_login(user)
        return client

    def browser(self, language: str, user: User | None = None) -> Client:
        client = Client(HTTP_ACCEPT_LANGUAGE=language)
        if user is not None:
            client.force_login(user)
        return client

    def hosted_verification(self) -> Verification:
        """A verification waiting on the sandbox's hosted capture page."""
        with self.capture_on_commit(execute=True):
            verification = submission.start_verification(self.applicant(), Change.system(Source.API), "hosted")
        verification.refresh_from_db()
        assert verification.status == VerificationStatus.AWAITING_USER
        return verification


def api_invalid_applicant(scene: Scene, language: str) -> HttpResponse:
    user = scene.user()
    applicant = scene.applicant(user)
    return scene.api(language, user).patch(
        f"/kyc/api/applicants/{applicant.pk}/", {"nationality": "Deutschland", "country": "1"}, format="json"
    )


def api_invalid_aml_check(scene: Scene, language: str) -> HttpResponse:
    user = scene.user()
    applicant = scene.applicant(user)
    return scene.api(language, user).post(
        f"/kyc/api/applicants/{applicant.pk}/aml-checks/", {"subject": "wallet", "tx_hash": "ab"}, format="json"
    )


def api_refused_upload(scene: Scene, language: str) -> HttpResponse:
    user = scene.user()
    applicant = scene.applicant(user)
    return scene.api(language, user).post(
        f"/kyc/api/applicants/{applicant.pk}/documents/",
        {
            "type": "passport",
            "file": SimpleUploadedFile("a.txt", b"plain text, not an image", content_type="image/png"),
            "back_file": SimpleUploadedFile("b.pdf", make_pdf(30), content_type="application/pdf"),
        },
    )


def api_not_found(scene: Scene, language: str) -> HttpResponse:
    return scene.api(language, scene.user()).get("/kyc/api/no-such-endpoint/")


def api_forbidden(scene: Scene, language: str) -> HttpResponse:
    staff_viewer = scene.user("django_kyc.view_applicant", staff=True)
    return scene.api(language, staff_viewer).post(f"/kyc/api/applicants/{scene.applicant().pk}/aml-checks/", {})


def api_conflict(scene: Scene, language: str) -> HttpResponse:
    user = scene.user()
    scene.applicant(user)
    return scene.api(language, user).post("/kyc/api/applicants/", {"first_name": "Jane"}, format="json")


def api_finished_verification(scene: Scene, language: str) -> HttpResponse:
    user = scene.user()
    verification = make_verification(scene.applicant(user), VerificationStatus.APPROVED)
    return scene.api(language, user).post(f"/kyc/api/verifications/{verification.pk}/client-token/")


def sandbox_capture(scene: Scene, language: str) -> HttpResponse:
    return scene.browser(language).get(scene.hosted_verification().client_link)


def sandbox_capture_finished(scene: Scene, language: str) -> HttpResponse:
    return scene.browser(language).post(scene.hosted_verification().client_link, {"outcome": "approved"})


def sandbox_capture_too_late(scene: Scene, language: str) -> HttpResponse:
    verification = scene.hosted_verification()
    Verification.objects.filter(pk=verification.pk).update(status=VerificationStatus.REVIEW)
    return scene.browser(language).post(verification.client_link, {"outcome": "approved"})


@dataclass(frozen=True)
class Page:
    name: str
    render: Callable[[Scene, str], HttpResponse]
    status: int = 200


PAGES = [
    Page("API: invalid applicant data", api_invalid_applicant, 400),
    Page("API: impossible AML check", api_invalid_aml_check, 400),
    Page("API: refused upload", api_refused_upload, 400),
    Page("API: unknown endpoint", api_not_found, 404),
    Page("API: not allowed", api_forbidden, 403),
    Page("API: conflict", api_conflict, 409),
    Page("API: finished verification", api_finished_verification, 409),
    Page("sandbox capture page", sandbox_capture),
    Page("sandbox capture page, finished", sandbox_capture_finished),
    Page("sandbox capture page, too late", sandbox_capture_too_late),
]


@pytest.fixture
def scene(make_applicant: Callable[..., Applicant], django_capture_on_commit_callbacks: Any) -> Scene:
    return Scene(make_applicant, django_capture_on_commit_callbacks)


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
def test_a_page_in_the_language_asked_for_has_no_untranslated_string(page: Page, language: str, scene: Scene) -> None:
    catalog = entries(language)
    english = page.render(scene, "en")
    assert english.status_code == page.status, english.content
    ours = find(shown_texts(english), {text: entry for entry in catalog for text in forms(entry)})
    assert ours, f"nothing from our catalog on {page.name!r}: it cannot show whether it is translated"

    translated = page.render(scene, language)
    assert translated.status_code == page.status, translated.content
    assert translated.get("Content-Language") == language
    texts = shown_texts(translated)
    missing = [entry.msgid for entry in ours if not find(texts, dict.fromkeys(entry.msgstrs, entry))]
    assert missing == [], f"shown in English, not found translated in {language}"
    untranslated = {text: entry for entry in catalog for text in forms(entry) if text not in entry.msgstrs}
    english_left = [entry.msgid for entry in find(texts, untranslated)]
    assert english_left == [], f"English left on the {language} rendering: {texts}"


# --- numbers and dates ---------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "pixels", "limit"), [("en", "1,200", "1,000"), ("de", "1.200", "1.000")])
def test_numbers_in_messages_follow_the_language(language: str, pixels: str, limit: str, scene: Scene) -> None:
    user = scene.user()
    applicant = scene.applicant(user)
    with override_settings(DJANGO_KYC=kyc_settings_with(MAX_IMAGE_PIXELS=1000)):
        response = scene.api(language, user).post(
            f"/kyc/api/applicants/{applicant.pk}/documents/",
            {"type": "passport", "file": SimpleUploadedFile("p.png", make_png(40, 30), content_type="image/png")},
        )
    assert response.status_code == 400
    message = response.json()["file"][0]
    assert f"= {pixels} " in message
    assert limit in message


def test_reason_code_labels_follow_the_active_language() -> None:
    """They were once evaluated at import, and so English for good."""
    from django_kyc.reasons import reason_codes

    labels = {}
    for language in ("en", *LANGUAGES):
        with translation.override(language):
            labels[language] = str(reason_codes()["DOCUMENT_EXPIRED"])
    assert labels == {"en": "Document expired", "de": "Dokument abgelaufen", "es": "Documento caducado"}
