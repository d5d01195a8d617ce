"""The reviewer's lists show people: names (masked without ``view_applicant_pii``), country, risk, age and
short ids; search by name for those who may see names only; AML topics as labels and a hit's own risk; the
applicant page offers erasure, not Delete; webhook bodies indented; the dashboard on the admin's front page."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from django_kyc import aml_topics, charts
from django_kyc.admin.columns import age_cell, humanise_age
from django_kyc.admin.webhook import pretty_body
from django_kyc.models import (
    AmlCheck,
    AmlHit,
    AmlQueueItem,
    Applicant,
    ErasureRequest,
    ReviewDecision,
    ReviewQueueItem,
    Verification,
    WebhookEvent,
)
from django_kyc.status import AmlStatus, RiskLevel, VerificationStatus
from tests.support.factories import make_verification

pytestmark = pytest.mark.django_db
V = VerificationStatus
QUEUES = [ReviewQueueItem, Verification, AmlQueueItem, AmlHit, ReviewDecision, Applicant]


def staff(username: str, *, pii: bool) -> User:
    """Every django_kyc permission, with or without the one that shows personal data."""
    user = User.objects.create_user(username=username, password="pw", is_staff=True)
    perms = Permission.objects.filter(content_type__app_label="django_kyc")
    user.user_permissions.set(perms if pii else perms.exclude(codename="view_applicant_pii"))
    return User.objects.get(pk=user.pk)


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def changelist(model: Any) -> str:
    return reverse(f"admin:django_kyc_{model._meta.model_name}_changelist")


@pytest.fixture
def world(db: Any) -> dict[str, Any]:
    """Two applicants with a verification waiting, an open PEP hit on the low-risk one, and a proposal."""
    kowalski = Applicant.objects.create(
        first_name="Jan", last_name="Kowalski", email="jan@example.com", country="PL", nationality="PL"
    )
    other = Applicant.objects.create(first_name="Aoife", last_name="Byrne", email="aoife@example.com", country="IE")
    waiting = make_verification(kowalski, V.REVIEW)
    make_verification(other, V.ERROR)
    Verification.objects.filter(pk=waiting.pk).update(updated_at=timezone.now() - timedelta(hours=3, minutes=5))
    check = AmlCheck.objects.create(applicant=kowalski, backend="sandbox", status=AmlStatus.POTENTIAL_MATCH)
    hit = AmlHit.objects.create(
        aml_check=check, entity_id="pep-1", caption="Listed politician", score=0.9, topics=["role.pep"]
    )
    AmlHit.objects.create(
        aml_check=AmlCheck.objects.create(applicant=other, backend="sandbox", status=AmlStatus.POTENTIAL_MATCH),
        entity_id="x",
        caption="Unrelated",
        score=0.5,
        topics=["exchange"],
    )
    proposer = User.objects.create_user(username="priya")
    ReviewDecision.objects.create(
        applicant=kowalski,
        verification=waiting,
        decision="decline",
        reason_code="DOCUMENT_FORGED",
        rule="risk_level:high",
        proposed_by=proposer,
    )
    return {"kowalski": kowalski, "other": other, "waiting": waiting, "hit": hit}


# --- names, masked or not ------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", QUEUES, ids=lambda m: m._meta.model_name)
def test_every_queue_shows_the_name_to_pii_staff_and_masks_it_for_others(world: dict[str, Any], model: Any) -> None:
    shown = client_for(staff("pii", pii=True)).get(changelist(model)).content.decode()
    assert "Jan Kowalski" in shown
    hidden = client_for(staff("nopii", pii=False)).get(changelist(model)).content.decode()
    assert "Kowalski" not in hidden
    assert "•••" in hidden
    # the reference (shortened, the whole of it in the title) lets both find the person
    assert f'title="{world["kowalski"].reference}"' in hidden


@pytest.mark.parametrize("model", QUEUES, ids=lambda m: m._meta.model_name)
def test_search_by_name_email_or_reference_with_the_pii_permission(world: dict[str, Any], model: Any) -> None:
    client = client_for(staff("pii", pii=True))
    for term in ("Kowalski", "jan@example.com", "Jan Kowalski", world["kowalski"].reference[:12]):
        result = client.get(changelist(model), {"q": term}).context["cl"].result_list
        assert result, term
        assert {_applicant(row) for row in result} == {world["kowalski"]}, term


@pytest.mark.parametrize("model", QUEUES, ids=lambda m: m._meta.model_name)
def test_no_search_by_name_without_the_pii_permission(world: dict[str, Any], model: Any) -> None:
    client = client_for(staff("nopii", pii=False))
    for term in ("Kowalski", "jan@example.com"):
        assert client.get(changelist(model), {"q": term}).context["cl"].result_count == 0, term
    # the reference is not personal data: everyone may search by it
    found = client.get(changelist(model), {"q": world["kowalski"].reference}).context["cl"].result_list
    assert found
    assert {_applicant(row) for row in found} == {world["kowalski"]}


def _applicant(row: Any) -> Applicant:
    if isinstance(row, Applicant):
        return row
    if isinstance(row, AmlHit):
        return row.aml_check.applicant
    return row.applicant  # type: ignore[no-any-return]


def test_masked_column_does_not_sort_by_the_hidden_name(world: dict[str, Any]) -> None:
    """``?o=`` follows the masked column, which sorts by the reference, not by the last name."""
    client = client_for(staff("nopii", pii=False))
    with CaptureQueriesContext(connection) as queries:
        client.get(changelist(ReviewQueueItem), {"o": "1"})
    listing = [
        q["sql"] for q in queries.captured_queries if "ORDER BY" in q["sql"] and "django_kyc_verification" in q["sql"]
    ]
    assert listing
    assert all("last_name" not in sql.split("ORDER BY")[1] for sql in listing)


def test_queue_columns_country_risk_age_and_no_uuid(world: dict[str, Any]) -> None:
    response = client_for(staff("pii", pii=True)).get(changelist(ReviewQueueItem))
    body = response.content.decode()
    assert ">PL<" in body
    assert ">3 h<" in body
    assert str(world["waiting"].pk) not in re.sub(r'"[^"]*"', "", body)  # only in links and checkbox values
    headers = [str(header["text"]).lower() for header in response.context["result_headers"]]
    assert headers[1:] == ["applicant", "country", "risk", "backend", "status", "reasons", "assignee", "age"]


def test_verification_list_shows_short_ids_with_the_full_id_in_the_title(world: dict[str, Any]) -> None:
    body = client_for(staff("pii", pii=True)).get(changelist(Verification)).content.decode()
    pk = str(world["waiting"].pk)
    assert f'<span class="kyc-short-id" title="{pk}">{pk[:8]}…</span>' in body


def test_humanised_ages() -> None:
    now = timezone.now()
    assert humanise_age(now - timedelta(seconds=20), now) == "now"
    assert humanise_age(now - timedelta(minutes=12), now) == "12 min"
    assert humanise_age(now - timedelta(hours=3, minutes=59), now) == "3 h"
    assert humanise_age(now - timedelta(days=2, hours=5), now) == "2 d"
    assert humanise_age(None, now) == "-"


def test_an_age_stays_on_one_line_with_the_exact_time_to_the_second_in_its_title() -> None:
    since = timezone.make_aware(datetime(2026, 3, 4, 5, 6, 7), timezone.get_current_timezone())
    cell = str(age_cell(since))
    assert 'style="white-space: nowrap"' in cell  # "23 h" is not broken into "23" and "h" in a narrow column
    assert 'title="2026-03-04 05:06:07"' in cell
    with translation.override("de"):
        assert 'title="04.03.2026 05:06:07"' in str(age_cell(since))


def test_age_column_sorts_oldest_last_when_ascending(world: dict[str, Any]) -> None:
    client = client_for(staff("pii", pii=True))
    age_column = 8  # the action checkbox is column 0, the applicant 1, ... the age 8
    rows = client.get(changelist(ReviewQueueItem), {"o": str(age_column)}).context["cl"].result_list
    assert [row.pk for row in rows][-1] == world["waiting"].pk  # "age" ascending: the oldest last


# --- AML topics and a hit's risk ----------------------------------------------------------------------------


def test_topics_are_labels() -> None:
    assert aml_topics.labels(["role.pep", "PEP", "SAN", "sanction", "crime.fin", "mystery.code"]) == [
        "PEP",
        "Sanction",
        "Financial crime",
        "mystery.code",
    ]


def test_a_pep_hit_is_high_risk_whatever_the_applicant_level(world: dict[str, Any]) -> None:
    hit = AmlHit.objects.select_related("aml_check__applicant").get(pk=world["hit"].pk)
    assert hit.aml_check.applicant.risk_level == RiskLevel.LOW
    assert hit.risk == RiskLevel.HIGH
    # an unknown or harmless topic keeps the applicant's level; the provider's level counts too
    assert aml_topics.hit_risk(["exchange"], RiskLevel.MEDIUM) == RiskLevel.MEDIUM
    assert aml_topics.hit_risk(["mystery"], "low", "HIGH") == RiskLevel.HIGH
    assert aml_topics.hit_risk([], "", "unknown") == RiskLevel.LOW
    assert aml_topics.hit_risk(["exchange"], RiskLevel.PROHIBITED) == RiskLevel.PROHIBITED


def test_aml_queue_shows_topic_labels_and_the_hit_risk(world: dict[str, Any]) -> None:
    response = client_for(staff("pii", pii=True)).get(changelist(AmlQueueItem))
    body = response.content.decode()
    assert '<td class="field-topic_labels">PEP</td>' in body
    assert "role.pep" not in body
    row = body.split("Listed politician", 1)[1].split("</tr>")[0]
    assert '<td class="field-hit_risk">High</td>' in row


# --- the applicant page: erasure, not Delete ------------------------------------------------------------------


def test_applicant_page_offers_erasure_and_no_delete_or_add_another(world: dict[str, Any]) -> None:
    superuser = User.objects.create_superuser("root", password="pw")
    client = client_for(superuser)
    applicant = world["kowalski"]
    page = client.get(reverse("admin:django_kyc_applicant_change", args=[applicant.pk])).content.decode()
    erasure_url = reverse("admin:django_kyc_applicant_erasure", args=[applicant.pk])
    assert f'href="{erasure_url}"' in page
    assert 'class="deletelink"' not in page
    assert 'name="_addanother"' not in page
    assert client.get(reverse("admin:django_kyc_applicant_delete", args=[applicant.pk])).status_code == 403
    changes = client.get(changelist(Applicant)).content.decode()
    assert "delete_selected" not in changes


def test_requesting_erasure_records_it_through_the_retention_service(world: dict[str, Any]) -> None:
    clerk = User.objects.create_user("clerk", password="pw", is_staff=True)
    clerk.user_permissions.set(
        Permission.objects.filter(
            codename__in=["view_applicant", "change_applicant"], content_type__app_label="django_kyc"
        )
    )
    client = client_for(clerk)
    applicant = world["kowalski"]
    url = reverse("admin:django_kyc_applicant_erasure", args=[applicant.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "daily purge" in page.content.decode()  # lapsed, but the clerk may not purge at once
    response = client.post(url, {"note": "Email of 3 March"})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:django_kyc_applicant_change", args=[applicant.pk])
    request = ErasureRequest.objects.get(applicant=applicant)
    assert request.requested_by == clerk
    assert request.note.startswith("Email of 3 March")
    applicant.refresh_from_db()
    assert applicant.pii_redacted_at is None  # no purge permission: due now, the daily purge executes it


def test_erasure_needs_the_change_permission(world: dict[str, Any]) -> None:
    viewer = staff("viewer", pii=True)
    viewer.user_permissions.remove(Permission.objects.get(codename="change_applicant"))
    client = client_for(User.objects.get(pk=viewer.pk))
    applicant = world["kowalski"]
    page = client.get(reverse("admin:django_kyc_applicant_change", args=[applicant.pk])).content.decode()
    assert "request-erasure" not in page
    url = reverse("admin:django_kyc_applicant_erasure", args=[applicant.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"note": ""}).status_code == 403
    assert not ErasureRequest.objects.exists()


# --- the webhook body -----------------------------------------------------------------------------------------


def test_webhook_body_is_indented_and_wrapped_for_pii_staff_only(world: dict[str, Any]) -> None:
    event = WebhookEvent.objects.create(
        backend="sandbox", event_id="evt-1", body=json.dumps({"applicant": {"name": "Jan Kowalski"}}).encode()
    )
    url = reverse("admin:django_kyc_webhookevent_change", args=[event.pk])
    body = client_for(staff("pii", pii=True)).get(url).content.decode()
    assert "white-space:pre-wrap" in body
    assert "{\n  &quot;applicant&quot;: {\n    &quot;name&quot;: &quot;Jan Kowalski&quot;\n  }\n}" in body
    assert "Kowalski" not in client_for(staff("nopii", pii=False)).get(url).content.decode()


def test_a_body_that_is_not_json_is_shown_as_received() -> None:
    assert pretty_body("a=1&b=2") == "a=1&b=2"
    assert pretty_body('{"a":[1,2]}') == '{\n  "a": [\n    1,\n    2\n  ]\n}'


# --- the dashboard ----------------------------------------------------------------------------------------------


def test_dashboard_is_on_the_admin_front_page_for_reviewers(world: dict[str, Any]) -> None:
    reviewer = User.objects.create_user("rita", password="pw", is_staff=True)
    reviewer.user_permissions.set(Permission.objects.filter(codename__in=["view_verification", "view_reviewqueueitem"]))
    client = client_for(reviewer)
    index = client.get(reverse("admin:index")).content.decode()
    entry = reverse("admin:django_kyc_reviewdashboard_changelist")
    assert f'href="{entry}"' in index
    page = client.get(entry)
    assert page.status_code == 200
    assert page.content.decode().count('class="kyc-chart"') == 4
    assert client.get(entry, {"applicant__last_name__startswith": "K"}).status_code == 400


def test_dashboard_entry_is_hidden_from_who_may_not_see_it(world: dict[str, Any]) -> None:
    clerk = User.objects.create_user("clerk", password="pw", is_staff=True)
    clerk.user_permissions.set(Permission.objects.filter(codename__in=["view_applicant"]))
    client = client_for(clerk)
    entry = reverse("admin:django_kyc_reviewdashboard_changelist")
    assert entry not in client.get(reverse("admin:index")).content.decode()
    assert client.get(entry).status_code == 403


def test_one_day_of_data_draws_a_labelled_column_not_a_block() -> None:
    svg = str(charts.stacked_bars(["2026-03-01"], {"approved": [3], "declined": [1]}, names={"approved": "Approved"}))
    widths = [
        float(part.split('"')[0]) for part in svg.split('class="kyc-bar"')[1:] for part in [part.split('width="')[1]]
    ]
    assert widths == [charts.MAX_BAR_WIDTH, charts.MAX_BAR_WIDTH]
    assert 'class="kyc-total"' in svg
    assert ">4</text>" in svg  # the column's total
    assert ">03-01</text>" in svg  # its date
    assert ">5</text>" in svg  # a round axis maximum with a gridline
    assert svg.count('class="kyc-grid"') == 3


def test_a_small_value_is_never_a_hairline() -> None:
    svg = str(charts.stacked_bars(["a"], {"approved": [1000], "declined": [1]}))
    heights = [float(part.split('height="')[1].split('"')[0]) for part in svg.split('class="kyc-bar"')[1:]]
    assert min(heights) >= charts.MIN_BAR
    bars = str(charts.horizontal_bars([("a", 1000.0, "x"), ("b", 0.5, "y")]))
    widths = [float(part.split('width="')[1].split('"')[0]) for part in bars.split('class="kyc-bar"')[1:]]
    assert min(widths) >= charts.MIN_BAR
    assert 'class="kyc-track"' in bars


def test_nice_ceiling() -> None:
    assert [charts.nice_ceiling(v) for v in (0, 1, 3, 7, 23, 100, 101)] == [1, 1, 5, 10, 50, 100, 200]


# --- the queues' footer -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "language", "expected"),
    [
        (ReviewQueueItem, "en", "2 cases waiting"),
        (ReviewQueueItem, "de", "2 Fälle warten"),
        (ReviewQueueItem, "es", "2 casos en espera"),
        (AmlQueueItem, "en", "2 hits waiting"),
        (AmlQueueItem, "de", "2 Treffer warten"),
        (AmlQueueItem, "es", "2 coincidencias en espera"),
    ],
)
def test_a_queue_counts_what_waits_in_it(world: dict[str, Any], model: Any, language: str, expected: str) -> None:
    """Not Django's "<count> <verbose name plural>", which read "2 review queue"."""
    client = client_for(staff("pii", pii=True))
    body = client.get(changelist(model), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    total = re.search(r'<span class="kyc-queue-total">(.*?)</span>', body, re.S)
    assert total is not None
    assert total.group(1) == expected
    one = client.get(changelist(model), {"q": world["kowalski"].reference}).content.decode()
    assert re.search(r'<span class="kyc-queue-total">1 (case|hit) waiting</span>', one)
