"""The reviewer's admin: every screen renders, lists cost fixed queries, decisions go through the review
service with a reason, the webhook inbox can reprocess, document files are permission-checked and audited,
and the audit trail cannot be edited."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from cryptography.fernet import Fernet
from django.conf import settings
from django.contrib import admin as django_admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission, User
from django.contrib.messages import get_messages
from django.core.files.base import ContentFile
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from django_kyc.backends import get_backend
from django_kyc.backends.base import ProviderState
from django_kyc.backends.sandbox import SandboxBackend
from django_kyc.models import (
    AmlCheck,
    AmlHit,
    AmlQueueItem,
    Applicant,
    AuditEvent,
    Delivery,
    Document,
    DocumentFile,
    Endpoint,
    ErasureRequest,
    OutboundEvent,
    ReviewDashboard,
    ReviewDecision,
    ReviewDueItem,
    ReviewQueueItem,
    ScreeningDismissal,
    Verification,
    WebhookEvent,
    WebhookRejection,
    WebhookState,
)
from django_kyc.models.sanctions import ListEntry, ListSource, ListVersion, SanctionsList
from django_kyc.outbound import generate_secret
from django_kyc.sanctions.records import ListedEntry, ListedName, ParsedList
from django_kyc.sanctions.store import load_version
from django_kyc.services import aml, review, submission, transitions, webhooks
from django_kyc.services.audit import Change
from django_kyc.status import Actor, ApplicantStatus, Source, VerificationStatus
from tests.support.factories import make_verification
from tests.support.files import make_png
from tests.support.kyc_settings import kyc_settings_with

V = VerificationStatus
KYC_MODELS = [
    Applicant,
    Document,
    Verification,
    ReviewQueueItem,
    AmlCheck,
    AmlHit,
    AmlQueueItem,
    ReviewDueItem,
    ReviewDecision,
    AuditEvent,
    WebhookEvent,
    WebhookRejection,
    ErasureRequest,
    Endpoint,
    OutboundEvent,
    Delivery,
    SanctionsList,
    ListVersion,
    ListEntry,
    ScreeningDismissal,
]


#: Models with a fixed number of rows at most: the five official sanctions lists.
ROW_CAP: dict[type[Any], int] = {SanctionsList: len(ListSource.values)}


def admin_url(model: type[Any], view: str, *args: Any) -> str:
    return reverse(f"admin:django_kyc_{model._meta.model_name}_{view}", args=args)


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def verification_in(applicant: Applicant, status: str) -> Verification:
    """A verification moved to ``status`` by the transition service, as a provider would."""
    verification = submission.start_verification(applicant, Change.system())
    paths: dict[str, list[VerificationStatus]] = {
        V.PENDING: [],
        V.PROCESSING: [V.PROCESSING],
        V.REVIEW: [V.PROCESSING, V.REVIEW],
        V.ERROR: [V.ERROR],
        V.APPROVED: [V.PROCESSING, V.APPROVED],
        V.DECLINED: [V.PROCESSING, V.DECLINED],
    }
    for step in paths[status]:
        transitions.transition_verification(verification.pk, step, Change.provider("sandbox", Source.WEBHOOK))
    verification.refresh_from_db()
    return verification


@pytest.fixture
def superuser(admin_user: User) -> User:
    return admin_user


@pytest.fixture
def pii_reviewer(reviewer: User) -> User:
    """Document images are personal data: opening one also needs ``view_applicant_pii``."""
    reviewer.user_permissions.add(Permission.objects.get(codename="view_applicant_pii"))
    return User.objects.get(pk=reviewer.pk)


def populate(make_applicant: Callable[..., Applicant], count: int, start: int = 0) -> None:
    """``count`` applicants, each with a document, a verification in review, a screening with hits and an
    inbox event: something on every admin list (an event endpoint, so the status changes leave outbound events
    and deliveries too)."""
    Endpoint.objects.get_or_create(
        name="populate", defaults={"url": "https://svc.example/in", "event_types": ["*"], "secret": generate_secret()}
    )
    for n in range(start, start + count):
        Endpoint.objects.create(
            name=f"Row{n}", url=f"https://svc{n}.example/", event_types=["applicant.erased"], secret=generate_secret()
        )
        applicant = make_applicant(last_name=f"Row{n}")
        verification = verification_in(applicant, V.REVIEW)
        check = aml.start_check(applicant, Change.system())
        hit = AmlHit.objects.create(aml_check=check, entity_id="e1", caption="Someone", score=0.5)
        ReviewDecision.objects.create(
            applicant=applicant, aml_hit=hit, decision="false_positive", reason_code="OTHER", rule="risk_level:high"
        )
        ScreeningDismissal.objects.create(
            applicant=applicant, backend="sandbox", entity_id="e1", applicant_digest="0" * 64, hit=hit
        )
        WebhookEvent.objects.create(
            backend="sandbox", event_id=f"evt-{n}", verification=verification, state=WebhookState.FAILED
        )
        ErasureRequest.objects.create(applicant=applicant, note=f"Row{n}")
        Applicant.objects.filter(pk=applicant.pk).update(next_review_at=timezone.now() + timedelta(days=n - 1))
        WebhookRejection.objects.create(
            backend="sandbox", reason="bad_signature", day=timezone.localdate() - timedelta(days=n), count=n + 1
        )
    # one load per row, into the official lists in turn (there are five), each holding its rows so far
    sources = ListSource.values
    for n in range(start, start + count):
        rows = range(n % len(sources), n + 1, len(sources))
        load_version(
            sources[n % len(sources)],
            ParsedList([ListedEntry(f"Row{m}", "person", [ListedName(f"Listed Row{m}")]) for m in rows]),
        )


# --- every screen renders ---------------------------------------------------------------------------------


def test_every_kyc_model_admin_is_covered() -> None:
    registered = {model for model in django_admin.site._registry if model._meta.app_label == "django_kyc"}
    # the dashboard's entry lists nothing: tests/admin/test_dashboard.py covers it
    assert registered == {*KYC_MODELS, ReviewDashboard}


@pytest.mark.django_db
@pytest.mark.parametrize("model", KYC_MODELS, ids=lambda m: m._meta.model_name)
def test_changelist_and_change_page_render(
    superuser: User, make_applicant: Callable[..., Applicant], model: Any
) -> None:
    populate(make_applicant, 2)
    client = login(superuser)
    response = client.get(admin_url(model, "changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1
    obj = model.objects.first()
    response = client.get(admin_url(model, "change", obj.pk))
    assert response.status_code == 200
    # searching and filtering by status must not break either
    assert client.get(admin_url(model, "changelist"), {"q": "Row1"}).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("model", KYC_MODELS, ids=lambda m: m._meta.model_name)
def test_changelist_queries_do_not_grow_with_rows(
    superuser: User, make_applicant: Callable[..., Applicant], model: Any
) -> None:
    client = login(superuser)
    url = admin_url(model, "changelist")

    def count(rows: int) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        assert len(response.context["cl"].result_list) >= min(rows, ROW_CAP.get(model, rows))
        return len(queries)

    populate(make_applicant, 3)
    few = count(3)
    populate(make_applicant, 27, start=3)
    many = count(30)
    assert few == many, f"{model.__name__}: {few} queries for 3 rows, {many} for 30"


@pytest.mark.django_db
def test_applicant_page_queries_do_not_grow_with_documents(
    superuser: User, make_applicant: Callable[..., Applicant]
) -> None:
    applicant = make_applicant(last_name="Many")
    verification_in(applicant, V.REVIEW)
    client = login(superuser)
    url = admin_url(Applicant, "change", applicant.pk)

    def add_documents(count: int) -> None:
        for _ in range(count):
            document = Document.objects.create(applicant=applicant, type="id_card")
            for side in ("front", "back"):
                row = DocumentFile(document=document, side=side, sha256="0" * 64, content_type="image/png", size=1)
                row.file.save("x.png", io.BytesIO(make_png()), save=False)
                row.save()

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    add_documents(2)
    count()  # the first request of a process fills Django's content-type cache: one query the others skip
    few = count()
    add_documents(20)
    assert count() == few


# --- the review queue -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_review_queue_shows_only_review_and_error_oldest_first(
    reviewer: User, make_applicant: Callable[..., Applicant]
) -> None:
    now = timezone.now()
    expected = {}
    ages = [(30, V.REVIEW), (300, V.ERROR), (180, V.REVIEW), (540, V.APPROVED), (480, V.PROCESSING), (420, V.PENDING)]
    for minutes_ago, status in ages:
        with time_machine.travel(now - timedelta(minutes=minutes_ago), tick=False):
            verification = verification_in(make_applicant(last_name=f"Age{minutes_ago}"), status)
        expected[verification.pk] = minutes_ago

    response = login(reviewer).get(admin_url(ReviewQueueItem, "changelist"))
    assert response.status_code == 200
    shown = [row.pk for row in response.context["cl"].result_list]
    assert [expected[pk] for pk in shown] == [300, 180, 30]
    assert {row.status for row in response.context["cl"].result_list} == {V.REVIEW, V.ERROR}

    # the age filter narrows it further
    response = login(reviewer).get(admin_url(ReviewQueueItem, "changelist"), {"age": "1h"})
    assert [expected[row.pk] for row in response.context["cl"].result_list] == [300, 180]


# --- decisions ----------------------------------------------------------------------------------------------


@pytest.fixture
def in_review(make_applicant: Callable[..., Applicant]) -> list[Verification]:
    return [verification_in(make_applicant(last_name=f"Review{n}"), V.REVIEW) for n in range(2)]


APPLICANT_AFTER: dict[str, str] = {
    V.APPROVED: ApplicantStatus.VERIFIED,
    V.DECLINED: ApplicantStatus.REJECTED,
    V.RESUBMISSION_REQUESTED: ApplicantStatus.ACTION_REQUIRED,
}


def action_post(
    client: Client, model: Any, decision: str, verifications: list[Verification], query: str = "", **extra: str
) -> Any:
    data = {"action": decision, ACTION_CHECKBOX_NAME: [str(v.pk) for v in verifications], **extra}
    return client.post(admin_url(model, "changelist") + query, data)


def action_names(client: Client, model: Any, query: str = "") -> set[str]:
    form = client.get(admin_url(model, "changelist") + query).context["action_form"]
    return {name for name, _label in form.fields["action"].choices} if form else set()


@pytest.mark.django_db
@pytest.mark.parametrize("model", [ReviewQueueItem, Verification], ids=["queue", "verifications"])
@pytest.mark.parametrize(
    ("decision", "outcome", "reason_code"),
    [
        ("approve", V.APPROVED, "VERIFIED_MANUALLY"),
        ("decline", V.DECLINED, "SUSPECTED_FRAUD"),
        ("request_resubmission", V.RESUBMISSION_REQUESTED, "DOCUMENT_UNREADABLE"),
    ],
)
def test_decision_action_asks_for_a_reason_then_goes_through_the_review_service(
    reviewer: User,
    in_review: list[Verification],
    model: Any,
    decision: str,
    outcome: str,
    reason_code: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = login(reviewer)
    form = action_post(client, model, decision, in_review)
    assert form.status_code == 200
    assert "django_kyc/admin/decision.html" in [t.name for t in form.templates]
    html = form.content.decode()
    assert 'name="reason_code"' in html
    assert 'name="comment"' in html
    for verification in in_review:
        assert verification.applicant.reference in html
        assert f'value="{verification.pk}"' in html
    assert all(Verification.objects.get(pk=v.pk).status == V.REVIEW for v in in_review)

    calls: list[tuple[Any, ...]] = []
    real_decide = review.decide

    def spy(verification_id: Any, chosen: str, **kwargs: Any) -> Verification:
        calls.append((str(verification_id), chosen, kwargs["user"], kwargs["reason_code"]))
        return real_decide(verification_id, chosen, **kwargs)

    monkeypatch.setattr(review, "decide", spy)
    response = action_post(
        client, model, decision, in_review, apply="1", reason_code=reason_code, comment="Checked by phone"
    )
    assert response.status_code == 302
    assert sorted(calls) == sorted((str(v.pk), decision, reviewer, reason_code) for v in in_review)
    assert any("2 verifications" in message for message in messages_of(response))
    for verification in in_review:
        verification.refresh_from_db()
        assert verification.status == outcome
        event = AuditEvent.objects.get(object_id=str(verification.pk), to_status=outcome)
        assert event.from_status == V.REVIEW
        assert event.actor == reviewer
        assert event.actor_type == Actor.USER
        assert event.source == Source.ADMIN
        assert event.reason_code == reason_code
        assert event.reason == "Checked by phone"
        assert event.applicant_id == verification.applicant_id
        assert verification.applicant.status == APPLICANT_AFTER[outcome]


@pytest.mark.django_db
def test_decision_without_a_reason_changes_nothing(reviewer: User, in_review: list[Verification]) -> None:
    client = login(reviewer)
    before = AuditEvent.objects.count()
    response = action_post(client, ReviewQueueItem, "approve", in_review, apply="1", reason_code="", comment="ok")
    assert response.status_code == 200  # the form again, with its error
    assert response.context["form"].errors["reason_code"]
    response = action_post(client, ReviewQueueItem, "approve", in_review, apply="1", reason_code="MADE_UP")
    assert response.context["form"].errors["reason_code"]
    assert AuditEvent.objects.count() == before
    assert {Verification.objects.get(pk=v.pk).status for v in in_review} == {V.REVIEW}


@pytest.mark.django_db
def test_single_object_decide_url(reviewer: User, in_review: list[Verification]) -> None:
    verification = in_review[0]
    client = login(reviewer)
    page = client.get(admin_url(Verification, "change", verification.pk))
    assert page.status_code == 200
    url = f"/admin/django_kyc/verification/{verification.pk}/decide/decline/"
    assert f'href="{url}"' in page.content.decode()

    form = client.get(url)
    assert form.status_code == 200
    assert "django_kyc/admin/decision.html" in [t.name for t in form.templates]
    assert 'name="action"' not in form.content.decode()  # not a changelist action

    response = client.post(url, {"apply": "1", "reason_code": "DATA_MISMATCH", "comment": "Name differs"})
    assert response.status_code == 302
    assert response["Location"] == admin_url(Verification, "change", verification.pk)
    verification.refresh_from_db()
    assert verification.status == V.DECLINED
    assert verification.decision_source == "reviewer"
    event = AuditEvent.objects.get(object_id=str(verification.pk), to_status=V.DECLINED)
    assert (event.actor, event.reason_code, event.reason) == (reviewer, "DATA_MISMATCH", "Name differs")
    assert Verification.objects.get(pk=in_review[1].pk).status == V.REVIEW  # only the one in the URL

    # the same from the review queue's own URL
    other = in_review[1]
    response = client.post(
        f"/admin/django_kyc/reviewqueueitem/{other.pk}/decide/approve/",
        {"apply": "1", "reason_code": "VERIFIED_MANUALLY"},
    )
    assert response.status_code == 302
    assert Verification.objects.get(pk=other.pk).status == V.APPROVED


@pytest.mark.django_db
def test_decide_url_of_something_not_in_the_queue_is_404(reviewer: User, make_applicant: Any) -> None:
    approved = verification_in(make_applicant(), V.APPROVED)
    response = login(reviewer).post(
        f"/admin/django_kyc/reviewqueueitem/{approved.pk}/decide/decline/",
        {"apply": "1", "reason_code": "SUSPECTED_FRAUD"},
    )
    assert response.status_code == 404
    assert Verification.objects.get(pk=approved.pk).status == V.APPROVED


@pytest.mark.django_db
def test_invalid_move_shows_an_error_and_changes_nothing(reviewer: User, make_applicant: Any) -> None:
    approved = verification_in(make_applicant(last_name="Done"), V.APPROVED)
    before = AuditEvent.objects.count()
    client = login(reviewer)
    response = client.post(
        f"/admin/django_kyc/verification/{approved.pk}/decide/request_resubmission/",
        {"apply": "1", "reason_code": "DOCUMENT_UNREADABLE"},
        follow=True,
    )
    assert response.status_code == 200
    errors = [str(m) for m in response.context["messages"] if m.level_tag == "error"]
    assert errors
    assert "cannot move" in errors[0]
    approved.refresh_from_db()
    assert approved.status == V.APPROVED
    assert AuditEvent.objects.count() == before

    # in a batch, the valid ones go through and the invalid one is reported
    pending = verification_in(make_applicant(last_name="Waiting", user=None), V.REVIEW)
    response = action_post(
        client, Verification, "approve", [approved, pending], apply="1", reason_code="VERIFIED_MANUALLY"
    )
    texts = messages_of(response)
    assert any("1 verification." in t for t in texts)
    assert any(str(approved.pk) in t and "cannot move" in t for t in texts)
    assert Verification.objects.get(pk=pending.pk).status == V.APPROVED


@pytest.mark.django_db
def test_retry_action_requeues_a_verification_in_error(
    reviewer: User, make_applicant: Any, django_capture_on_commit_callbacks: Any
) -> None:
    failed = verification_in(make_applicant(last_name="Smith"), V.ERROR)
    with django_capture_on_commit_callbacks(execute=True):
        response = action_post(
            login(reviewer),
            ReviewQueueItem,
            "retry",
            [failed],
            query="?status__exact=error",
            apply="1",
            reason_code="PROVIDER_ERROR_RESOLVED",
        )
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status == V.APPROVED, failed.last_error  # resubmitted to the sandbox, which approved
    assert AuditEvent.objects.filter(
        object_id=str(failed.pk), from_status=V.ERROR, to_status=V.PENDING, actor=reviewer
    ).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("model", [ReviewQueueItem, Verification], ids=["queue", "verifications"])
def test_retry_is_offered_only_on_a_list_filtered_to_errors(reviewer: User, model: Any) -> None:
    client = login(reviewer)
    assert "approve" in action_names(client, model)
    assert "retry" not in action_names(client, model)
    assert "retry" not in action_names(client, model, "?status__exact=review")
    assert "retry" in action_names(client, model, "?status__exact=error")


@pytest.fixture
def viewer_without_review(make_user: Callable[..., User]) -> User:
    return make_user(
        "auditor",
        "django_kyc.view_verification",
        "django_kyc.view_reviewqueueitem",
        "django_kyc.view_applicant",
        staff=True,
    )


@pytest.mark.django_db
def test_without_review_permission_there_are_no_decisions(
    viewer_without_review: User, in_review: list[Verification]
) -> None:
    client = login(viewer_without_review)
    for model in (ReviewQueueItem, Verification):
        response = client.get(admin_url(model, "changelist"))
        assert response.status_code == 200
        choices = response.context["action_form"].fields["action"].choices if response.context["action_form"] else []
        assert not {"approve", "decline", "request_resubmission", "retry"} & {name for name, _ in choices}
        response = action_post(client, model, "approve", in_review, apply="1", reason_code="VERIFIED_MANUALLY")
        assert response.status_code in (200, 302)

    page = client.get(admin_url(Verification, "change", in_review[0].pk))
    assert page.status_code == 200
    assert "decide/" not in page.content.decode()
    for decision in ("approve", "decline", "request_resubmission", "retry"):
        url = f"/admin/django_kyc/verification/{in_review[0].pk}/decide/{decision}/"
        assert client.get(url).status_code == 403
        assert client.post(url, {"apply": "1", "reason_code": "VERIFIED_MANUALLY"}).status_code == 403
    assert {Verification.objects.get(pk=v.pk).status for v in in_review} == {V.REVIEW}
    assert not AuditEvent.objects.filter(actor=viewer_without_review).exists()


@pytest.mark.django_db
def test_review_permission_alone_does_not_open_the_verification_screens(
    make_user: Callable[..., User], in_review: list[Verification]
) -> None:
    """Deciding needs the reviewer to see what they decide on: ``review_applicant`` is not enough."""
    client = login(make_user("decider", "django_kyc.review_applicant", staff=True))
    url = f"/admin/django_kyc/verification/{in_review[0].pk}/decide/approve/"
    assert client.get(url).status_code == 403
    assert client.post(url, {"apply": "1", "reason_code": "VERIFIED_MANUALLY"}).status_code == 403
    assert Verification.objects.get(pk=in_review[0].pk).status == V.REVIEW


@pytest.mark.django_db
def test_unknown_decision_in_the_url_changes_nothing(reviewer: User, in_review: list[Verification]) -> None:
    url = f"/admin/django_kyc/verification/{in_review[0].pk}/decide/cancel/"
    response = login(reviewer).post(url, {"apply": "1", "reason_code": "OTHER"})
    assert response.status_code in (403, 404)
    assert Verification.objects.get(pk=in_review[0].pk).status == V.REVIEW


@pytest.mark.django_db
def test_anonymous_and_non_staff_are_sent_to_the_login_page(user: User, in_review: list[Verification]) -> None:
    url = f"/admin/django_kyc/verification/{in_review[0].pk}/decide/approve/"
    for client in (Client(), login(user)):
        response = client.post(url, {"apply": "1", "reason_code": "VERIFIED_MANUALLY"})
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]
    assert Verification.objects.get(pk=in_review[0].pk).status == V.REVIEW


# --- the webhook inbox ----------------------------------------------------------------------------------------


@pytest.fixture
def failed_event(make_applicant: Callable[..., Applicant]) -> WebhookEvent:
    """A genuine sandbox event that failed earlier (say the database was down) and can now be applied."""
    verification = verification_in(make_applicant(last_name="Smith"), V.PENDING)
    backend = get_backend("sandbox")
    assert isinstance(backend, SandboxBackend)
    state = ProviderState(status=V.PROCESSING, provider_status="processing", occurred_at=timezone.now())
    body = backend.build_event(verification, state)
    return WebhookEvent.objects.create(
        backend="sandbox",
        event_id=json.loads(body)["event_id"],
        provider_ref=backend.provider_ids(verification)[1],
        body=body,
        state=WebhookState.FAILED,
        attempts=8,
        last_error="OperationalError: database is locked",
    )


@pytest.mark.django_db
def test_reprocess_action_requeues_a_failed_event_which_gets_processed(
    reviewer: User, failed_event: WebhookEvent, django_capture_on_commit_callbacks: Any
) -> None:
    client = login(reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        response = action_post(client, WebhookEvent, "reprocess", [failed_event])  # type: ignore[list-item]
    assert response.status_code == 302
    assert any("1 event queued" in message for message in messages_of(response))
    failed_event.refresh_from_db()
    assert failed_event.state == WebhookState.PROCESSED, failed_event.last_error
    assert failed_event.last_error == ""
    assert failed_event.verification is not None
    assert failed_event.verification.status == V.PROCESSING


@pytest.mark.django_db
def test_reprocess_needs_the_change_permission(
    staff_viewer: User, make_user: Callable[..., User], failed_event: WebhookEvent
) -> None:
    client = login(make_user("inbox_reader", "django_kyc.view_webhookevent", staff=True))
    response = client.get(admin_url(WebhookEvent, "changelist"))
    assert response.status_code == 200
    assert response.context["action_form"] is None or "reprocess" not in dict(
        response.context["action_form"].fields["action"].choices
    )
    action_post(client, WebhookEvent, "reprocess", [failed_event])  # type: ignore[list-item]
    failed_event.refresh_from_db()
    assert failed_event.state == WebhookState.FAILED


@pytest.mark.django_db
def test_inbox_list_never_renders_bodies(superuser: User, failed_event: WebhookEvent) -> None:
    html = login(superuser).get(admin_url(WebhookEvent, "changelist")).content.decode()
    assert failed_event.event_id in html
    assert failed_event.body_text()[:40] not in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "shown"),
    [
        pytest.param('{"name": "Zoë <b>"}'.encode("utf-16"), "Zoë &lt;b&gt;", id="utf-16"),
        pytest.param('{"name": "Zoë"}'.encode("utf-32"), "Zoë", id="utf-32"),
        pytest.param(b'{"name": "Zo\xeb"}', "Zo\ufffd", id="latin-1-bytes-replaced"),
    ],
)
def test_inbox_detail_shows_the_stored_bytes_as_text(
    superuser: User, failed_event: WebhookEvent, body: bytes, shown: str
) -> None:
    """The body is kept as bytes; people read it decoded (by its BOM, as JSON is), escaped, bad bytes replaced."""
    WebhookEvent.objects.filter(pk=failed_event.pk).update(body=body)
    html = login(superuser).get(admin_url(WebhookEvent, "change", failed_event.pk)).content.decode()
    assert shown in html
    assert "Zoë <b>" not in html


@pytest.mark.django_db
def test_rejection_counts_are_view_only_for_everyone(superuser: User, make_user: Callable[..., User]) -> None:
    """Counters are written by the webhook service alone: nobody adds, edits or deletes one, and the model
    has no permission but ``view`` to grant."""
    webhooks.record_rejection("sandbox", "stale")
    webhooks.record_rejection("nosuch", "unknown_endpoint")
    row = WebhookRejection.objects.get(backend="sandbox")
    codenames = set(
        Permission.objects.filter(content_type__model="webhookrejection").values_list("codename", flat=True)
    )
    assert codenames == {"view_webhookrejection"}

    reader = login(make_user("ops", "django_kyc.view_webhookrejection", staff=True))
    html = reader.get(admin_url(WebhookRejection, "changelist")).content.decode()
    assert "Stale or replayed" in html
    assert "(unknown endpoint)" in html
    assert "nosuch" not in html
    assert reader.get(admin_url(WebhookRejection, "change", row.pk)).status_code == 200
    for client in (reader, login(superuser)):
        assert client.get(admin_url(WebhookRejection, "add")).status_code == 403
        assert client.get(admin_url(WebhookRejection, "delete", row.pk)).status_code == 403
        response = client.post(admin_url(WebhookRejection, "change", row.pk), {"count": "0"})
        assert response.status_code == 403
        changelist = client.get(admin_url(WebhookRejection, "changelist"))
        assert changelist.context["action_form"] is None
    assert WebhookRejection.objects.get(pk=row.pk).count == 1

    outsider = login(make_user("inbox_reader", "django_kyc.view_webhookevent", staff=True))
    assert outsider.get(admin_url(WebhookRejection, "changelist")).status_code == 403


# --- document files ---------------------------------------------------------------------------------------


@pytest.fixture
def document_file(make_applicant: Callable[..., Applicant]) -> DocumentFile:
    return DocumentFile.objects.get(document__applicant=make_applicant(last_name="Filed"))


def file_url(row: DocumentFile) -> str:
    return reverse("admin:django_kyc_document_file", args=[row.pk])


@pytest.mark.django_db
def test_document_file_is_streamed_to_a_reviewer_and_audited(pii_reviewer: User, document_file: DocumentFile) -> None:
    response = login(pii_reviewer).get(file_url(document_file))
    assert response.status_code == 200
    content = b"".join(response.streaming_content)  # type: ignore[attr-defined]  # closes the file too
    assert content == make_png()
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline;")
    assert "Filed" not in response["Content-Disposition"]
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"private", "no-store"} <= cache_control
    assert "public" not in cache_control
    assert response["X-Content-Type-Options"] == "nosniff"

    event = AuditEvent.objects.get(action="file_viewed")
    assert event.actor == pii_reviewer
    assert event.source == Source.ADMIN
    assert event.object_id == str(document_file.document_id)
    assert event.applicant_id == document_file.document.applicant_id
    assert event.data == {"file": str(document_file.pk)}


@pytest.mark.django_db
def test_document_file_is_refused_without_view_document(staff_viewer: User, document_file: DocumentFile) -> None:
    response = login(staff_viewer).get(file_url(document_file))
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="file_viewed").exists()


@pytest.mark.django_db
def test_document_file_needs_a_staff_login(user: User, document_file: DocumentFile) -> None:
    for client in (Client(), login(user)):
        response = client.get(file_url(document_file))
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]
    assert not AuditEvent.objects.filter(action="file_viewed").exists()


@pytest.mark.django_db
def test_unknown_document_file_is_404(pii_reviewer: User, document_file: DocumentFile) -> None:
    response = login(pii_reviewer).get(
        reverse("admin:django_kyc_document_file", args=["00000000-0000-0000-0000-000000000000"])
    )
    assert response.status_code == 404


@pytest.mark.django_db
def test_applicant_page_links_to_the_file_view(superuser: User, document_file: DocumentFile) -> None:
    page = login(superuser).get(admin_url(Applicant, "change", document_file.document.applicant_id))
    assert file_url(document_file) in page.content.decode()


# --- the audit trail is read-only -------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_applicant_timeline_and_the_audit_list_show_seconds(superuser: User, in_review: list[Verification]) -> None:
    """Events of one decision land within a minute: their times are shown to the second, as on the case page."""
    client = login(superuser)
    event = AuditEvent.objects.filter(applicant__isnull=False).order_by("-created_at").first()
    assert event is not None
    stamp = timezone.localtime(event.created_at).strftime("%Y-%m-%d %H:%M:%S")
    assert stamp in client.get(admin_url(Applicant, "change", event.applicant_id)).content.decode()
    assert stamp in client.get(admin_url(AuditEvent, "changelist")).content.decode()


@pytest.mark.django_db
def test_the_applicant_page_lists_verification_reasons_as_codes_not_json(superuser: User, make_applicant: Any) -> None:
    applicant = make_applicant(last_name="Reasons")
    make_verification(applicant, V.DECLINED, reasons=["DOCUMENT_EXPIRED", "DATA_MISMATCH"])
    page = login(superuser).get(admin_url(Applicant, "change", applicant.pk)).content.decode()
    assert "DOCUMENT_<wbr>EXPIRED<br>DATA_<wbr>MISMATCH" in page
    assert '["DOCUMENT_EXPIRED"' not in page


@pytest.mark.django_db
def test_audit_events_cannot_be_added_changed_or_deleted(superuser: User, in_review: list[Verification]) -> None:
    client = login(superuser)
    event = AuditEvent.objects.first()
    assert event is not None
    before = (AuditEvent.objects.count(), event.to_status, event.reason)

    changelist = client.get(admin_url(AuditEvent, "changelist"))
    assert changelist.context["has_add_permission"] is False
    action_form = changelist.context["action_form"]
    assert action_form is None or "delete_selected" not in dict(action_form.fields["action"].choices)

    change = client.get(admin_url(AuditEvent, "change", event.pk))
    assert change.status_code == 200
    assert change.context["has_change_permission"] is False
    assert change.context["has_delete_permission"] is False
    assert 'name="_save"' not in change.content.decode()

    assert client.get(admin_url(AuditEvent, "add")).status_code == 403
    assert client.post(admin_url(AuditEvent, "add"), {"object_type": "x", "to_status": "approved"}).status_code == 403
    assert client.post(admin_url(AuditEvent, "change", event.pk), {"reason": "edited"}).status_code == 403
    assert client.get(admin_url(AuditEvent, "delete", event.pk)).status_code == 403
    assert client.post(admin_url(AuditEvent, "delete", event.pk), {"post": "yes"}).status_code == 403
    client.post(admin_url(AuditEvent, "changelist"), {"action": "delete_selected", ACTION_CHECKBOX_NAME: [event.pk]})

    event.refresh_from_db()
    assert (AuditEvent.objects.count(), event.to_status, event.reason) == before


# --- personal data is masked without view_applicant_pii ---------------------------------------------------


@pytest.fixture
def secret_applicant(make_applicant: Callable[..., Applicant]) -> Applicant:
    return make_applicant(
        last_name="Secretname", email="jane.secret@example.com", city="Hiddenham", date_of_birth="1980-02-03"
    )


SECRETS = ("Secretname", "jane.secret@example.com", "Hiddenham", "X1234567", "1980")


def leaked_secrets(html: str) -> list[str]:
    """The secrets a page shows as words of their own: a CSRF token or a UUID may hold "1980" by chance."""
    return [secret for secret in SECRETS if re.search(rf"(?<![0-9A-Za-z]){re.escape(secret)}(?![0-9A-Za-z])", html)]


@pytest.mark.django_db
def test_personal_data_is_hidden_from_reviewers_without_the_pii_permission(
    reviewer: User, secret_applicant: Applicant
) -> None:
    client = login(reviewer)
    pages = {
        "changelist": client.get(admin_url(Applicant, "changelist")),
        "change": client.get(admin_url(Applicant, "change", secret_applicant.pk)),
        "document": client.get(admin_url(Document, "change", secret_applicant.documents.get().pk)),
    }
    for name, page in pages.items():
        assert page.status_code == 200, name
        html = page.content.decode()
        leaked = leaked_secrets(html)
        assert not leaked, (name, leaked)
    assert secret_applicant.reference in pages["changelist"].content.decode()
    assert "Hidden: viewing personal data" in pages["change"].content.decode()
    # searching by name would confirm who is an applicant
    found = client.get(admin_url(Applicant, "changelist"), {"q": "Secretname"})
    assert found.context["cl"].result_count == 0
    by_reference = client.get(admin_url(Applicant, "changelist"), {"q": secret_applicant.reference})
    assert by_reference.context["cl"].result_count == 1


@pytest.mark.django_db
def test_personal_data_is_shown_with_the_pii_permission(
    make_user: Callable[..., User], secret_applicant: Applicant
) -> None:
    client = login(
        make_user(
            "trusted",
            "django_kyc.view_applicant",
            "django_kyc.view_applicant_pii",
            "django_kyc.view_document",
            staff=True,
        )
    )
    html = client.get(admin_url(Applicant, "change", secret_applicant.pk)).content.decode()
    assert all(secret in html for secret in ("Secretname", "jane.secret@example.com", "Hiddenham", "X1234567"))
    assert "Secretname" in client.get(admin_url(Applicant, "changelist")).content.decode()
    assert client.get(admin_url(Applicant, "changelist"), {"q": "Secretname"}).context["cl"].result_count == 1


@pytest.mark.django_db
def test_an_editor_without_the_pii_permission_cannot_overwrite_personal_data(
    make_user: Callable[..., User], secret_applicant: Applicant
) -> None:
    client = login(make_user("editor", "django_kyc.view_applicant", "django_kyc.change_applicant", staff=True))
    url = admin_url(Applicant, "change", secret_applicant.pk)
    form = client.get(url).context["adminform"].form
    assert not set(form.fields) & {"first_name", "last_name", "email", "date_of_birth", "city"}
    response = client.post(
        url,
        {
            "last_name": "Overwritten",
            "external_id": "crm-42",
            "risk_level": "high",
            "nationality": "GB",
            "country": "GB",
            **_inline_management(),
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    secret_applicant.refresh_from_db()
    assert secret_applicant.last_name == "Secretname"
    assert secret_applicant.external_id == "crm-42"  # the fields the editor may change were saved
    assert secret_applicant.risk_level == "low"  # only the audited risk service changes it


def _inline_management() -> dict[str, str]:
    """The management forms of the applicant page's (read-only) inlines."""
    data = {}
    for prefix in ("documents", "verifications", "aml_checks", "audit_events"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    return data


@pytest.mark.django_db
def test_document_file_missing_from_storage_is_404_and_not_audited(
    pii_reviewer: User, document_file: DocumentFile
) -> None:
    document_file.file.storage.delete(document_file.file.name)
    response = login(pii_reviewer).get(file_url(document_file))
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="file_viewed").exists()


def stored_path(row: DocumentFile) -> Path:
    """Where the default storage keeps ``row``'s (encrypted) bytes."""
    return Path(str(settings.DJANGO_KYC["DOCUMENT_STORAGE_LOCATION"])) / row.file.name


@pytest.mark.django_db
def test_document_file_is_decrypted_on_the_way_out(pii_reviewer: User, document_file: DocumentFile) -> None:
    assert make_png() not in stored_path(document_file).read_bytes()
    response = login(pii_reviewer).get(file_url(document_file))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == make_png()  # type: ignore[attr-defined]
    assert response["Content-Length"] == str(len(make_png()))


@pytest.mark.django_db
def test_a_plaintext_file_from_before_encryption_is_still_shown(
    pii_reviewer: User, document_file: DocumentFile
) -> None:
    stored_path(document_file).write_bytes(make_png(5, 5))
    response = login(pii_reviewer).get(file_url(document_file))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == make_png(5, 5)  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_a_tampered_document_file_is_refused_and_not_audited(pii_reviewer: User, document_file: DocumentFile) -> None:
    path = stored_path(document_file)
    content = bytearray(path.read_bytes())
    content[-3] ^= 0x01
    path.write_bytes(bytes(content))
    response = login(pii_reviewer).get(file_url(document_file))
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/plain")
    assert b"failed authentication" in response.content
    assert not AuditEvent.objects.filter(action="file_viewed").exists()


@pytest.mark.django_db
def test_a_document_file_whose_key_was_removed_says_so(pii_reviewer: User, document_file: DocumentFile) -> None:
    other_key = Fernet.generate_key().decode()
    with override_settings(DJANGO_KYC=kyc_settings_with(ENCRYPTION_KEYS=[other_key])):
        name = document_file.file.storage.save("documents/zz/elsewhere.png", ContentFile(make_png()))
    DocumentFile.objects.filter(pk=document_file.pk).update(file=name)
    response = login(pii_reviewer).get(file_url(document_file))
    assert response.status_code == 500
    assert b"ENCRYPTION_KEYS" in response.content
    assert not AuditEvent.objects.filter(action="file_viewed").exists()


@pytest.mark.django_db
def test_document_images_need_the_pii_permission(reviewer: User, document_file: DocumentFile) -> None:
    response = login(reviewer).get(file_url(document_file))
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="file_viewed").exists()


@pytest.mark.django_db
def test_verification_page_hides_the_client_link_and_provider_payload_from_read_only_staff(
    reviewer: User, make_applicant: Callable[..., Applicant]
) -> None:
    verification = verification_in(make_applicant(), V.PROCESSING)
    Verification.objects.filter(pk=verification.pk).update(
        client_link="https://provider.example/flow/secret-token", provider_data={"passport": {"surname": "SECRETNAME"}}
    )
    page = login(reviewer).get(admin_url(Verification, "change", verification.pk))
    assert page.status_code == 200
    assert b"secret-token" not in page.content
    assert b"SECRETNAME" not in page.content
