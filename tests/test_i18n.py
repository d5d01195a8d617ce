"""django_kyc speaks German and Spanish: the catalogs are complete and compiled, and what a user sees in those
languages holds no English string of ours.

The catalogs are read with :mod:`tests.support.po`, so these tests need no GNU gettext, except the one that
extracts the marked strings again to find any the catalogs miss (``scripts/messages.sh make``).

The catalogs are django_kyc's and the demo onboarding page's (:data:`CATALOGS`), each with the ``django``
domain and, where an app's scripts have text, the ``djangojs`` one (served by Django's JavaScriptCatalog).

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
from datetime import timedelta
from functools import cache
from html.parser import HTMLParser
from itertools import count
from pathlib import Path
from typing import Any

import django
import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.test import APIClient

import django_kyc
import example_project.onboarding
from django_kyc.models import Applicant, Verification
from django_kyc.services import submission
from django_kyc.services.audit import Change
from django_kyc.status import Source, VerificationStatus
from tests.support.cases import case_in_review, reviewer
from tests.support.factories import create_user, make_verification
from tests.support.files import make_pdf, make_png
from tests.support.kyc_settings import kyc_settings_with, suite_backends
from tests.support.po import Entry, read_mo, read_po
from tests.support.services import require_service

ROOT = Path(__file__).resolve().parent.parent
LOCALE = Path(django_kyc.__file__).resolve().parent / "locale"
ONBOARDING_LOCALE = Path(example_project.onboarding.__file__).resolve().parent / "locale"
#: Every catalog whose strings a page may show; the page check looks for the strings of all of them.
CATALOGS = (LOCALE, ONBOARDING_LOCALE)
#: The languages django_kyc ships besides English (the catalogs under django_kyc/locale/).
LANGUAGES = ("de", "es")


def po_path(language: str, locale: Path = LOCALE, domain: str = "django") -> Path:
    return locale / language / "LC_MESSAGES" / f"{domain}.po"


def domains(locale: Path) -> list[str]:
    """The catalog's domains: ``django``, and ``djangojs`` where the app's scripts have text."""
    return sorted(path.stem for path in (locale / LANGUAGES[0] / "LC_MESSAGES").glob("*.po"))


@cache
def entries(language: str) -> tuple[Entry, ...]:
    """The entries of every catalog in ``language``, without their headers."""
    return tuple(
        entry
        for locale in CATALOGS
        for domain in domains(locale)
        for entry in read_po(po_path(language, locale, domain))[1:]
    )


CATALOG_FILES = [
    pytest.param(locale, language, domain, id=f"{locale.parent.name}-{domain}-{language}")
    for locale in CATALOGS
    for domain in domains(locale)
    for language in LANGUAGES
]


# --- the catalogs ---------------------------------------------------------------------------------------


def test_both_apps_have_catalogs_of_both_domains() -> None:
    assert domains(LOCALE) == ["django"]  # case.js has no text of its own: its labels are in the template
    assert domains(ONBOARDING_LOCALE) == ["django", "djangojs"]


@pytest.mark.parametrize(("locale", "language", "domain"), CATALOG_FILES)
def test_every_entry_is_translated_and_none_is_fuzzy(locale: Path, language: str, domain: str) -> None:
    header, *rest = read_po(po_path(language, locale, domain))
    assert header.msgid == ""
    assert not header.fuzzy  # msgfmt would leave a fuzzy header out, and with it the charset
    assert f"Language: {language}\\n" in json.dumps(header.value)
    assert [entry.msgid for entry in rest if not entry.translated] == []
    assert [entry.msgid for entry in rest if entry.fuzzy] == []


@pytest.mark.parametrize(("locale", "language", "domain"), CATALOG_FILES)
def test_the_committed_mo_says_what_its_po_says(locale: Path, language: str, domain: str) -> None:
    """The wheel ships the committed .mo; a .po edited without ``scripts/messages.sh compile`` fails here."""
    po = {entry.key: entry.value for entry in read_po(po_path(language, locale, domain))}
    # msgfmt leaves the template's creation date out of the compiled header
    po[""] = "".join(line for line in po[""].splitlines(keepends=True) if not line.startswith("POT-Creation-Date:"))
    assert read_mo(po_path(language, locale, domain).with_suffix(".mo")) == po


def test_every_language_has_the_same_entries() -> None:
    keys = {language: {entry.key for entry in entries(language)} for language in LANGUAGES}
    assert keys["de"] == keys["es"]


def test_the_catalogs_hold_every_marked_string(tmp_path: Path) -> None:
    """Extract the marked strings again (as ``scripts/messages.sh make`` does) into copies of the apps: a
    string marked in the code or a script but missing from the catalogs would be shown in English to everyone."""
    require_service("GNU gettext", shutil.which("xgettext") is not None, "apt-get install gettext")
    copies = {}
    for locale in CATALOGS:
        copies[locale] = tmp_path / locale.parent.name
        shutil.copytree(
            locale.parent,
            copies[locale],
            ignore=shutil.ignore_patterns("__pycache__", "*.mo", "testing", "migrations"),
        )
    script = ROOT / "scripts" / "messages.sh"
    subprocess.run(
        ["bash", str(script), "make"],
        check=True,
        capture_output=True,
        env={
            "PATH": "/usr/bin:/bin",
            "KYC_MESSAGES_APPS": " ".join(str(copy) for copy in copies.values()),
            "DJANGO_ADMIN": str(Path(sys.executable).parent / "django-admin"),
        },
        timeout=240,
    )
    for locale, copy in copies.items():
        assert domains(copy / "locale") == domains(locale), f"a domain of {locale} has no committed catalog"
        for domain in domains(locale):
            for language in LANGUAGES:
                name = f"{locale.parent.name} {domain} {language}"
                extracted = {entry.key for entry in read_po(po_path(language, copy / "locale", domain))}
                committed = {entry.key for entry in read_po(po_path(language, locale, domain))}
                assert extracted - committed == set(), f"marked but not in the {name} catalog"
                assert committed - extracted == set(), f"in the {name} catalog but no longer marked"


# --- what a user sees --------------------------------------------------------------------------------------


class TextCollector(HTMLParser):
    """The text a person reads on an HTML page: text nodes (not scripts or styles) and the attributes a
    browser shows or reads out. Literal values (``<code>``: a reason code, a sandbox keyword; ``<kbd>``: a
    key to press) are data, never translated, and left out."""

    HIDDEN_TAGS = ("script", "style", "code", "kbd")

    SHOWN_ATTRIBUTES = ("title", "alt", "placeholder", "aria-label")

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN_TAGS:
            self._hidden += 1
        values = dict(attrs)
        shown = [values.get(name) for name in self.SHOWN_ATTRIBUTES]
        if tag == "input" and values.get("type") in ("submit", "button", "reset"):
            shown.append(values.get("value"))
        self.texts += [value for value in shown if value]

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN_TAGS:
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


#: What a placeholder stands for: a number (``%(count)d``, in any language's digits grouping) or any text.
PLACEHOLDERS = {"d": r"\d[\d.,\u00a0\u202f]*", "s": ".+?", "r": ".+?"}


@cache
def pattern(text: str, capitalised: bool = False) -> re.Pattern[str]:
    """A catalog string as a regular expression: a placeholder matches a number (``d``) or anything, spaces
    match any run of spaces, and a word at either end matches only a whole word ("Open" is not found in
    "Opened"). ``capitalised``: with its first letter upper case, as the admin shows model names."""
    pieces = re.split(r"%\(\w+\)([sdr])", text.replace("%%", "%"))
    body = ""
    for index, piece in enumerate(pieces):
        if index % 2:
            body += f"({PLACEHOLDERS[piece]})"
        else:
            body += r"\s+".join(re.escape(word) for word in re.split(r"\s+", piece))
    if capitalised:
        body = body[:1].upper() + body[1:]
    start = r"\b" if re.match(r"\w", text) else ""
    end = r"\b" if re.search(r"\w$", text) else ""
    return re.compile(f"{start}{body}{end}")


def forms(entry: Entry) -> list[str]:
    """The entry's English texts that can be told apart from data: a unit beside a number ("%(value)ss" of
    "42s") has too few letters of its own to be looked for."""
    texts = [entry.msgid] + ([entry.msgid_plural] if entry.msgid_plural else [])
    return [text for text in texts if len(re.sub(r"%\(\w+\)[sdr]|[^A-Za-z]", "", text)) >= 2]


@cache
def django_texts() -> frozenset[str]:
    """The English strings of Django's own catalogs (the admin's pages, forms, auth): a page in German shows
    them in Django's German, so they are cut out of a page before ours are looked for ("Change password" is
    Django's, not our "Change")."""
    root = Path(django.__file__).resolve().parent
    catalogs = [root / "conf" / "locale", root / "contrib" / "admin" / "locale", root / "contrib" / "auth" / "locale"]
    return frozenset(
        text
        for locale in catalogs
        for domain in ("django", "djangojs")
        if (locale / "de" / "LC_MESSAGES" / f"{domain}.po").exists()
        for entry in read_po(locale / "de" / "LC_MESSAGES" / f"{domain}.po")[1:]
        for text in forms(entry)
    )


def same_word(text: str, entry: Entry) -> bool:
    """Whether the language writes ``text`` as English does ("Status"), up to the first letter's case
    ("backend", "Backend")."""
    return any(text[:1].lower() + text[1:] == msgstr[:1].lower() + msgstr[1:] for msgstr in entry.msgstrs)


def find(texts: Iterable[str], candidates: dict[str, Entry], others: Iterable[str] = ()) -> list[Entry]:
    """The entries whose text (a key of ``candidates``) appears in ``texts``, longest first: each match is
    cut out before shorter strings are looked for, so "Approve" is not found again inside "Approved".
    ``others`` are someone else's strings: cut out the same way (ours first at equal length), never found."""
    everything: dict[str, Entry | None] = {**dict.fromkeys(others), **candidates}
    # each text as written and, if it starts in lower case, capitalised; longest first, then as written, ours
    variants = [(text, False) for text in everything] + [(text, True) for text in everything if text[:1].islower()]
    variants.sort(key=lambda variant: (len(variant[0]), not variant[1], variant[0] in candidates), reverse=True)
    found: list[Entry] = []
    for original in texts:
        text = original
        for candidate, capitalised in variants:
            if pattern(candidate, capitalised).search(text):
                entry = everything[candidate]
                if entry is not None:
                    found.append(entry)
                text = pattern(candidate, capitalised).sub("\x00", text)
    return found


class Scene:
    """What the pages are rendered from, built afresh for every rendering: rendering a page may change what
    the next rendering of it would show (a capture page finished, an applicant created)."""

    def __init__(self, make_applicant: Callable[..., Applicant], capture_on_commit: Any) -> None:
        self.make_applicant = make_applicant
        self.capture_on_commit = capture_on_commit
        self._numbers = count()

    def user(self, *perms: str, staff: bool = False) -> User:
        return create_user(f"i18n-{next(self._numbers)}", *perms, staff=staff)

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


#: Onfido in API mode: no hosted flow, and some applicants refused before anything is sent (its client is
#: never called by these pages).
ONFIDO = {
    "CLASS": "django_kyc.backends.onfido.OnfidoBackend",
    "OPTIONS": {"API_TOKEN": "token", "BASE_URL": "http://127.0.0.1:9/", "MODE": "api"},
}
WITH_ONFIDO = kyc_settings_with(BACKENDS=suite_backends(onfido=ONFIDO), USER_SELECTABLE_BACKENDS=["onfido"])


def api_no_hosted_flow(scene: Scene, language: str) -> HttpResponse:
    """UnsupportedFeature, with the feature named in the request's language."""
    user = scene.user()
    verification = make_verification(scene.applicant(user), VerificationStatus.AWAITING_USER, backend="onfido")
    with override_settings(DJANGO_KYC=WITH_ONFIDO):
        return scene.api(language, user).post(f"/kyc/api/verifications/{verification.pk}/client-token/")


def api_refused_by_the_provider(scene: Scene, language: str) -> HttpResponse:
    """A backend's ``check_verification_subject`` refusal, which the API answers with a 400."""
    user = scene.user()
    applicant = scene.applicant(user, last_name="Smith <admin>")
    with override_settings(DJANGO_KYC=WITH_ONFIDO):
        return scene.api(language, user).post(
            f"/kyc/api/applicants/{applicant.pk}/verifications/", {"backend": "onfido"}, format="json"
        )


def onboarding_page(scene: Scene, language: str) -> HttpResponse:
    """The demo's onboarding page for a signed-in applicant (its script's strings are checked in a browser)."""
    return scene.browser(language, scene.user()).get("/onboarding/")


def case_page(scene: Scene, language: str) -> HttpResponse:
    """The reviewer's case page: a verification in review with a mismatch, a document and an open PEP hit."""
    verification = case_in_review(scene.applicant(last_name="Lovelace", date_of_birth="1990-12-10", country="GB"))
    return scene.browser(language, reviewer(f"rita-{next(scene._numbers)}")).get(
        f"/admin/django_kyc/reviewqueueitem/{verification.pk}/change/"
    )


def review_queue(scene: Scene, language: str) -> HttpResponse:
    case_in_review(scene.applicant(last_name="Lovelace"))
    return scene.browser(language, reviewer(f"rita-{next(scene._numbers)}")).get("/admin/django_kyc/reviewqueueitem/")


#: Seconds from creation to decision of the dashboard's decided verifications: a median of 12.5 s.
DECISION_SECONDS = {VerificationStatus.APPROVED: (10, 12, 13), VerificationStatus.DECLINED: (20,)}


def dashboard(scene: Scene, language: str) -> HttpResponse:
    """The review dashboard with four decisions (three approved) and one case waiting."""
    now = timezone.now()
    for status, durations in DECISION_SECONDS.items():
        for seconds in durations:
            verification = make_verification(scene.applicant(), status, decided_at=now)
            Verification.objects.filter(pk=verification.pk).update(created_at=now - timedelta(seconds=seconds))
    case_in_review(scene.applicant(last_name="Lovelace"))
    return scene.browser(language, reviewer(f"rita-{next(scene._numbers)}")).get(
        reverse("admin:django_kyc_dashboard"), {"days": 1}
    )


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
    Page("API: no hosted flow", api_no_hosted_flow, 400),
    Page("API: refused by the provider before starting", api_refused_by_the_provider, 400),
    Page("onboarding page", onboarding_page),
    Page("admin: case page", case_page),
    Page("admin: review queue", review_queue),
    Page("admin: dashboard", dashboard),
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
    ours = find(shown_texts(english), {text: entry for entry in catalog for text in forms(entry)}, django_texts())
    assert ours, f"nothing from our catalog on {page.name!r}: it cannot show whether it is translated"

    translated = page.render(scene, language)
    assert translated.status_code == page.status, translated.content
    assert translated.get("Content-Language") == language
    texts = shown_texts(translated)
    missing = [entry.msgid for entry in ours if not find(texts, dict.fromkeys(entry.msgstrs, entry))]
    assert missing == [], f"shown in English, not found translated in {language}"
    untranslated = {text: entry for entry in catalog for text in forms(entry) if not same_word(text, entry)}
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


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "written"),
    [("en", "%Y-%m-%d %H:%M:%S"), ("de", "%d.%m.%Y %H:%M:%S"), ("es", "%d/%m/%Y %H:%M:%S")],
)
def test_the_case_page_writes_times_as_the_language_does(language: str, written: str, scene: Scene) -> None:
    """With seconds (the timeline orders events seconds apart), in the order and with the separators of the
    language; English keeps ISO 8601."""
    response = case_page(scene, language)
    assert response.status_code == 200
    verification = Verification.objects.get()
    html = response.content.decode()
    waiting = html[html.index("kyc-facts") : html.index("kyc-tools")]
    assert timezone.localtime(verification.updated_at).strftime(written) in waiting
    expiry = verification.applicant.documents.get().expiry_date
    assert expiry.strftime(written.split()[0]) in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "median", "approval"),
    [("en", "12.5", "75% of 4"), ("de", "12,5", "75 % von 4"), ("es", "12,5", "75 % de 4")],
)
def test_the_dashboard_writes_numbers_as_the_language_does(
    language: str, median: str, approval: str, scene: Scene
) -> None:
    """Three of four decisions approved, a median of 12.5 seconds to decide (:data:`DECISION_SECONDS`)."""
    response = dashboard(scene, language)
    assert response.status_code == 200
    html = response.content.decode()
    stats = html[html.index('id="kyc-backend-stats"') :]
    assert f"<td>{median}</td>" in stats
    assert f">{approval}</text>" in html[html.index('id="chart-approval"') :]
