"""The case page: one verification under review with what a reviewer needs, and decisions through the service."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from django_kyc.admin.case import CaseDecisionForm, decisions_for
from django_kyc.models import (
    AmlCheck,
    AmlHit,
    Applicant,
    AuditEvent,
    Document,
    DocumentFile,
    ProposalStatus,
    ReviewDecision,
    Verification,
)
from django_kyc.reasons import reason_choices
from django_kyc.services import review, transitions
from django_kyc.services.audit import Change
from django_kyc.status import AmlHitStatus, AmlStatus, Source, VerificationStatus
from tests.support.cases import stored_file
from tests.support.factories import create_user, make_verification
from tests.support.files import make_pdf, make_png
from tests.support.kyc_settings import kyc_settings_with

pytestmark = pytest.mark.django_db

V = VerificationStatus
REVIEWER_PERMISSIONS = (
    "django_kyc.view_applicant",
    "django_kyc.view_reviewqueueitem",
    "django_kyc.view_verification",
    "django_kyc.view_document",
    "django_kyc.review_applicant",
)


def reviewer(username: str = "rita", *extra: str, pii: bool = True) -> Any:
    perms = (*REVIEWER_PERMISSIONS, *(("django_kyc.view_applicant_pii",) if pii else ()), *extra)
    return create_user(username, *perms, staff=True)


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def case_url(verification: Verification) -> str:
    return reverse("admin:django_kyc_reviewqueueitem_change", args=[verification.pk])


def decide_url(verification: Verification) -> str:
    return reverse("admin:django_kyc_reviewqueueitem_case_decide", args=[verification.pk])


def in_review(applicant: Applicant, **fields: Any) -> Verification:
    return make_verification(applicant, V.REVIEW, **fields)


@pytest.fixture
def case(make_applicant: Any) -> Verification:
    """Jane Smith in review; the provider read a different date of birth and document number."""
    applicant = make_applicant(last_name="Smith", date_of_birth="1990-01-02", country="GB")
    document = applicant.documents.get()
    verification = in_review(
        applicant,
        reasons=["DOCUMENT_EDITED"],
        provider_status="needs_review",
        provider_data={
            "confirmed_fields": ["first_name", "last_name"],
            "applicant_mismatches": {"date_of_birth": {"applicant": "1990-01-02", "provider": "1990-02-01"}},
            "document_readings": {
                str(document.pk): {"confirmed": ["issuing_country"], "mismatches": {"number": "X7654321"}}
            },
        },
    )
    return verification


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- what the page shows --------------------------------------------------------------------------------


def test_the_case_page_sets_the_applicant_beside_what_the_provider_read(case: Verification) -> None:
    response = signed_in(reviewer()).get(case_url(case))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Jane Smith" in html
    rows = {
        re.sub(r"<[^>]+>|\s+", " ", m.group(1)).split()[0]: m.group(0)
        for m in re.finditer(r'<tr class="kyc-\w+" data-state="\w+"><th scope="row">(.*?)</tr>', html, re.S)
    }
    assert 'data-state="match"' in rows["First"]
    assert 'data-state="mismatch"' in rows["Date"]
    assert "1990-01-02" in rows["Date"]
    assert "1990-02-01" in rows["Date"]
    assert 'data-state="mismatch"' in rows["Document"]
    assert "X1234567" in rows["Document"]
    assert "X7654321" in rows["Document"]
    # the provider's result and reasons, with the catalogue's label
    assert "needs_review" in html
    assert "DOCUMENT_EDITED" in html
    assert "Document edited or tampered with" in html
    # the document viewer, loading the file through the permission-checked view
    file_url = reverse("admin:django_kyc_document_file", args=[case.applicant.documents.get().files.get().pk])
    assert f'src="{file_url}"' in html
    assert 'class="kyc-rotate"' in html
    # the breadcrumb leads back to the queue
    queue = reverse("admin:django_kyc_reviewqueueitem_changelist")
    assert f'<a href="{queue}" id="kyc-breadcrumb-queue">' in html


def test_without_the_pii_permission_values_are_masked_but_mismatches_still_show(case: Verification) -> None:
    response = signed_in(reviewer("nina", pii=False)).get(case_url(case))
    assert response.status_code == 200
    html = response.content.decode()
    for secret in ("Jane", "Smith", "1990-01-02", "1990-02-01", "X1234567", "X7654321"):
        assert secret not in html
    assert html.count('data-state="mismatch"') == 2
    assert case.applicant.reference in html
    # no document image either: the file view would refuse it
    assert "/document/file/" not in html
    assert 'id="kyc-documents-hidden"' in html


def test_earlier_verifications_and_the_timeline_newest_first_with_seconds(case: Verification) -> None:
    earlier = make_verification(case.applicant, V.DECLINED, reasons=["DOCUMENT_EXPIRED"])
    Verification.objects.filter(pk=earlier.pk).update(created_at=timezone.now() - timedelta(days=30))
    transitions.transition_verification(case.pk, V.ERROR, Change.provider("sandbox", Source.WEBHOOK))
    transitions.transition_verification(case.pk, V.REVIEW, Change.provider("sandbox", Source.WEBHOOK))
    html = signed_in(reviewer()).get(case_url(case)).content.decode()
    earlier_section = html[html.index('id="kyc-earlier"') : html.index('id="kyc-timeline"')]
    assert reverse("admin:django_kyc_verification_change", args=[earlier.pk]) in earlier_section
    assert "DOCUMENT_EXPIRED" in earlier_section
    timeline = html[html.index('id="kyc-timeline"') :]
    moves = re.findall(r"(In review|Error) → (In review|Error)", timeline)  # statuses by name
    assert moves[:2] == [("Error", "In review"), ("In review", "Error")]  # newest first
    newest = AuditEvent.objects.filter(applicant=case.applicant).order_by("-created_at", "-id").first()
    assert newest is not None
    assert timezone.localtime(newest.created_at).strftime("%Y-%m-%d %H:%M:%S") in timeline
    assert 'id="kyc-filter-kind"' in timeline
    assert 'id="kyc-filter-actor"' in timeline


def test_aml_hits_show_their_evidence_and_resolve_through_the_review_service(case: Verification) -> None:
    check = AmlCheck.objects.create(applicant=case.applicant, backend="sandbox", status=AmlStatus.POTENTIAL_MATCH)
    hit = AmlHit.objects.create(
        aml_check=check,
        entity_id="Q-1",
        caption="Jane Smyth",
        score=0.81,
        topics=["role.pep"],
        datasets=["eu_fsf"],
        details={"birthDate": ["1961-04-01"], "position": "Minister"},
    )
    client = signed_in(reviewer())
    html = client.get(case_url(case)).content.decode()
    assert "Jane Smyth" in html
    assert "Minister" in html
    assert "1961-04-01" in html
    hit_url = reverse("admin:django_kyc_reviewqueueitem_case_hit", args=[case.pk, hit.pk])
    assert hit_url in html
    response = client.post(
        hit_url, {"resolution": "false_positive", "reason_code": "VERIFIED_MANUALLY", "comment": "Other person."}
    )
    assert response.status_code == 302
    assert response["Location"].startswith(case_url(case))
    hit.refresh_from_db()
    assert (hit.status, hit.resolved_by.username, hit.resolution_code) == (
        AmlHitStatus.FALSE_POSITIVE,
        "rita",
        "VERIFIED_MANUALLY",
    )
    # a reason that does not fit the resolution is refused, and nothing changes
    other = AmlHit.objects.create(aml_check=check, entity_id="Q-2", caption="J. Smith", topics=["sanction"])
    client.post(
        reverse("admin:django_kyc_reviewqueueitem_case_hit", args=[case.pk, other.pk]),
        {"resolution": "false_positive", "reason_code": "SANCTIONS_MATCH"},
    )
    other.refresh_from_db()
    assert other.status == AmlHitStatus.OPEN


def test_a_hit_of_another_applicant_cannot_be_resolved_through_this_case(
    case: Verification, make_applicant: Any
) -> None:
    stranger = make_applicant(last_name="Other", with_document=False)
    check = AmlCheck.objects.create(applicant=stranger, backend="sandbox", status=AmlStatus.POTENTIAL_MATCH)
    hit = AmlHit.objects.create(aml_check=check, entity_id="Q-9", caption="Someone")
    response = signed_in(reviewer()).post(
        reverse("admin:django_kyc_reviewqueueitem_case_hit", args=[case.pk, hit.pk]),
        {"resolution": "false_positive", "reason_code": "VERIFIED_MANUALLY"},
    )
    assert response.status_code == 404


# --- decisions ------------------------------------------------------------------------------------------


def test_reason_codes_are_filtered_to_the_decision() -> None:
    approve = dict(reason_choices("approve"))
    decline = dict(reason_choices("decline"))
    assert "VERIFIED_MANUALLY" in approve
    assert "SUSPECTED_FRAUD" not in approve
    assert "SUSPECTED_FRAUD" in decline
    assert "VERIFIED_MANUALLY" not in decline
    assert "DOCUMENT_UNREADABLE" in dict(reason_choices("request_resubmission"))
    form = CaseDecisionForm({"decision": "approve", "reason_code": "SUSPECTED_FRAUD"}, decisions={"approve": "Approve"})
    assert not form.is_valid()
    assert "reason_code" in form.errors


def test_site_reason_codes_are_offered_for_every_decision() -> None:
    with override_settings(DJANGO_KYC=kyc_settings_with(REASON_CODES={"HOUSE_RULE": "House rule"})):
        for decision in ("approve", "decline", "request_resubmission", "retry"):
            assert "HOUSE_RULE" in dict(reason_choices(decision))


def test_the_page_marks_each_reason_with_the_decisions_it_fits(case: Verification) -> None:
    html = signed_in(reviewer()).get(case_url(case)).content.decode()
    fits = dict(re.findall(r'<option value="(\w+)" data-fits="([\w ]*)"', html[html.index('id="kyc-decision-form"') :]))
    assert fits["VERIFIED_MANUALLY"].split() == ["approve"]
    assert "approve" not in fits["SUSPECTED_FRAUD"].split()
    assert "decline" in fits["SUSPECTED_FRAUD"].split()


def test_deciding_on_the_case_page_goes_through_the_service_and_lands_on_the_queue_with_one_message(
    case: Verification, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    decide = review.decide

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append((args, kwargs))
        return decide(*args, **kwargs)

    monkeypatch.setattr(review, "decide", spy)
    client = signed_in(reviewer())
    response = client.post(
        decide_url(case), {"decision": "approve", "reason_code": "VERIFIED_MANUALLY", "comment": "Looks right."}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:django_kyc_reviewqueueitem_changelist")
    assert len(calls) == 1
    case.refresh_from_db()
    assert case.status == V.APPROVED
    queue = client.get(response["Location"])
    texts = messages_of(queue)
    assert texts == [f"Approved: Jane Smith ({case.applicant.reference})."]
    assert "Perhaps it was deleted" not in queue.content.decode()
    row = AuditEvent.objects.get(object_id=str(case.pk), to_status=V.APPROVED)
    assert (row.actor.username, row.reason_code, row.reason) == ("rita", "VERIFIED_MANUALLY", "Looks right.")


def test_a_reason_that_does_not_fit_is_refused_and_nothing_is_decided(case: Verification) -> None:
    response = signed_in(reviewer()).post(decide_url(case), {"decision": "approve", "reason_code": "SUSPECTED_FRAUD"})
    assert response.status_code == 400
    assert "This reason does not fit the decision." in response.content.decode()
    case.refresh_from_db()
    assert case.status == V.REVIEW


def test_without_the_review_permission_the_page_offers_no_decision_and_the_service_refuses(case: Verification) -> None:
    viewer = create_user("vera", "django_kyc.view_reviewqueueitem", "django_kyc.view_applicant_pii", staff=True)
    client = signed_in(viewer)
    html = client.get(case_url(case)).content.decode()
    assert 'id="kyc-decision-form"' not in html
    response = client.post(decide_url(case), {"decision": "approve", "reason_code": "VERIFIED_MANUALLY"})
    assert response.status_code == 400
    assert "permission" in response.content.decode()
    case.refresh_from_db()
    assert case.status == V.REVIEW


def test_the_old_decision_page_of_a_queue_item_returns_to_the_queue_without_a_doesnt_exist_message(
    case: Verification,
) -> None:
    client = signed_in(reviewer())
    url = reverse("admin:django_kyc_reviewqueueitem_decide", args=[case.pk, "decline"])
    response = client.post(url, {"apply": "1", "reason_code": "SUSPECTED_FRAUD", "comment": ""})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:django_kyc_reviewqueueitem_changelist")
    page = client.get(response["Location"])
    assert messages_of(page) == ["Decline: 1 verification."]
    assert "Perhaps it was deleted" not in page.content.decode()


def test_retry_is_offered_only_for_failed_submissions(make_applicant: Any) -> None:
    client = signed_in(reviewer())
    in_error = make_verification(make_applicant(last_name="Err"), V.ERROR, last_error="provider said 500")
    waiting = in_review(make_applicant(last_name="Wait"))
    assert "retry" in decisions_for(in_error)
    assert "retry" not in decisions_for(waiting)
    assert 'id="kyc-decision-retry"' in client.get(case_url(in_error)).content.decode()
    assert 'id="kyc-decision-retry"' not in client.get(case_url(waiting)).content.decode()
    # the verification's own page too: retry only on an error, nothing on a decided one
    verification_page = reverse("admin:django_kyc_verification_change", args=[waiting.pk])
    html = client.get(verification_page).content.decode()
    assert 'id="decide-retry"' not in html
    assert 'id="decide-approve"' in html
    assert 'id="open-case"' in html
    assert (
        'id="decide-retry"'
        in client.get(reverse("admin:django_kyc_verification_change", args=[in_error.pk])).content.decode()
    )
    refused = client.post(decide_url(waiting), {"decision": "retry", "reason_code": "PROVIDER_ERROR_RESOLVED"})
    assert refused.status_code == 400


def test_a_decided_case_sends_the_reviewer_to_the_verification_page(make_applicant: Any) -> None:
    decided = make_verification(make_applicant(), V.APPROVED)
    response = signed_in(reviewer()).get(case_url(decided))
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:django_kyc_verification_change", args=[decided.pk])


# --- four-eyes ------------------------------------------------------------------------------------------


@override_settings(DJANGO_KYC=kyc_settings_with(FOUR_EYES=True))
def test_four_eyes_is_shown_plainly_and_a_second_reviewer_confirms_on_the_page(make_applicant: Any) -> None:
    verification = in_review(make_applicant(last_name="Risky", risk_level="high"))
    rita = reviewer("rita")
    client = signed_in(rita)
    html = client.get(case_url(verification)).content.decode()
    assert 'id="kyc-four-eyes-rule"' in html
    assert "risk_level:high" in html
    response = client.post(decide_url(verification), {"decision": "decline", "reason_code": "SUSPECTED_FRAUD"})
    assert response["Location"] == reverse("admin:django_kyc_reviewqueueitem_changelist")
    assert messages_of(client.get(response["Location"])) == [
        f"Decline proposed for Jane Risky ({verification.applicant.reference}): a second reviewer must confirm "
        "it (four-eyes rule risk_level:high)."
    ]
    verification.refresh_from_db()
    assert verification.status == V.REVIEW
    proposal = ReviewDecision.objects.get()

    html = client.get(case_url(verification)).content.decode()
    assert "Four-eyes: awaiting a second reviewer." in html
    assert "You proposed this" in html
    assert "kyc-confirm-proposal" not in html  # the proposer cannot confirm
    assert 'id="kyc-decision-form"' not in html

    sam = signed_in(reviewer("sam", "django_kyc.approve_high_risk"))
    html = sam.get(case_url(verification)).content.decode()
    assert "rita proposed <strong>decline</strong> (SUSPECTED_FRAUD)" in html
    assert "kyc-confirm-proposal" in html
    confirm = reverse("admin:django_kyc_reviewqueueitem_case_proposal", args=[verification.pk, proposal.pk, "confirm"])
    response = sam.post(confirm, {"comment": "Agreed."})
    assert response["Location"] == reverse("admin:django_kyc_reviewqueueitem_changelist")
    verification.refresh_from_db()
    proposal.refresh_from_db()
    assert verification.status == V.DECLINED
    assert (proposal.status, proposal.confirmed_by.username) == (ProposalStatus.CONFIRMED, "sam")


@override_settings(DJANGO_KYC=kyc_settings_with(FOUR_EYES=True))
def test_the_proposer_cannot_confirm_through_the_page(make_applicant: Any) -> None:
    verification = in_review(make_applicant(last_name="Risky", risk_level="high"))
    rita = reviewer("rita", "django_kyc.approve_high_risk")
    proposal = review.decide(verification.pk, "decline", user=rita, reason_code="SUSPECTED_FRAUD")
    client = signed_in(rita)
    confirm = reverse("admin:django_kyc_reviewqueueitem_case_proposal", args=[verification.pk, proposal.pk, "confirm"])
    response = client.post(confirm)
    assert response["Location"] == case_url(verification)
    assert messages_of(client.get(response["Location"])) == ["The proposer cannot confirm their own proposal."]
    verification.refresh_from_db()
    assert verification.status == V.REVIEW


# --- next case ------------------------------------------------------------------------------------------


def test_next_case_takes_the_oldest_unassigned_item_the_reviewer_may_decide(make_applicant: Any) -> None:
    rita = reviewer("rita")
    other = reviewer("otto")
    now = timezone.now()

    def waiting(name: str, minutes: int, **fields: Any) -> Verification:
        verification = in_review(make_applicant(last_name=name, with_document=False, **fields))
        Verification.objects.filter(pk=verification.pk).update(updated_at=now - timedelta(minutes=minutes))
        return verification

    own = waiting("Own", 60, user=rita)  # her own: never hers to decide
    taken = waiting("Taken", 50)
    review.assign(taken, other)
    Verification.objects.filter(pk=taken.pk).update(updated_at=now - timedelta(minutes=50))
    oldest = waiting("Oldest", 40)
    newer = waiting("Newer", 10)
    client = signed_in(rita)
    response = client.post(reverse("admin:django_kyc_reviewqueueitem_next"))
    assert response["Location"] == case_url(oldest)
    oldest.refresh_from_db()
    assert oldest.assigned_to == rita
    assert AuditEvent.objects.filter(object_id=str(oldest.pk), action="assigned", actor=rita).exists()
    response = client.post(reverse("admin:django_kyc_reviewqueueitem_next"))
    assert response["Location"] == case_url(newer)
    response = client.post(reverse("admin:django_kyc_reviewqueueitem_next"))
    assert response["Location"] == reverse("admin:django_kyc_reviewqueueitem_changelist")
    own.refresh_from_db()
    assert own.assigned_to is None
    # and it is a POST: a prefetched link must not hand out cases
    assert client.get(reverse("admin:django_kyc_reviewqueueitem_next")).status_code == 405


@override_settings(DJANGO_KYC=kyc_settings_with(FOUR_EYES=True))
def test_next_case_skips_proposals_the_reviewer_made_or_cannot_confirm(make_applicant: Any) -> None:
    rita = reviewer("rita")
    sam = reviewer("sam", "django_kyc.approve_high_risk")
    proposed = in_review(make_applicant(last_name="Risky", risk_level="high", with_document=False))
    review.decide(proposed.pk, "decline", user=rita, reason_code="SUSPECTED_FRAUD")
    assert review.take_next_case(rita) is None  # her own proposal
    taken = review.take_next_case(sam)
    assert taken is not None
    assert taken.pk == proposed.pk


def test_the_queue_offers_next_case_and_the_shortcuts(make_applicant: Any) -> None:
    html = signed_in(reviewer()).get(reverse("admin:django_kyc_reviewqueueitem_changelist")).content.decode()
    assert 'id="kyc-next-form"' in html
    assert 'id="kyc-shortcuts"' in html
    assert "django_kyc/case.js" in html


# --- PDF pages ------------------------------------------------------------------------------------------


def pdf_case(make_applicant: Any) -> tuple[Verification, DocumentFile]:
    applicant = make_applicant(last_name="Pdf", with_document=False)
    document = Document.objects.create(applicant=applicant, type="bank_statement")
    row = stored_file(document, make_pdf(3), "application/pdf", side="single")
    return in_review(applicant), row


def test_pdf_pages_render_as_png_behind_the_document_permission_and_are_never_cached(make_applicant: Any) -> None:
    verification, row = pdf_case(make_applicant)
    page_url = reverse("admin:django_kyc_document_pdf_page", args=[row.pk, 2])
    client = signed_in(reviewer())
    assert (
        reverse("admin:django_kyc_document_pdf_page", args=[row.pk, 1])
        in client.get(case_url(verification)).content.decode()
    )
    response = client.get(page_url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert response["X-Page-Count"] == "3"
    assert {"private", "no-store"} <= {part.strip() for part in response["Cache-Control"].split(",")}
    audited = AuditEvent.objects.get(action="file_viewed")
    assert audited.data == {"file": str(row.pk), "page": 2}
    assert client.get(reverse("admin:django_kyc_document_pdf_page", args=[row.pk, 4])).status_code == 404
    # without the personal-data permission, or without view_document: refused, and nothing audited
    assert signed_in(reviewer("nina", pii=False)).get(page_url).status_code == 403
    no_documents = create_user("dora", "django_kyc.view_reviewqueueitem", "django_kyc.view_applicant_pii", staff=True)
    assert signed_in(no_documents).get(page_url).status_code == 403
    assert AuditEvent.objects.filter(action="file_viewed").count() == 1


def test_a_document_kept_as_one_file_is_not_captioned_single_page(make_applicant: Any) -> None:
    """A one-file document may be a PDF of many pages: its viewer's pager counts them, no "Single page"."""
    verification, _row = pdf_case(make_applicant)
    page = signed_in(reviewer()).get(case_url(verification)).content.decode()
    assert 'class="kyc-page-count"' in page
    assert "Single page" not in page


def test_an_image_has_no_pages(make_applicant: Any) -> None:
    applicant = make_applicant(last_name="Img", with_document=False)
    document = Document.objects.create(applicant=applicant, type="passport")
    row = stored_file(document, make_png(4, 4), "image/png")
    response = signed_in(reviewer()).get(reverse("admin:django_kyc_document_pdf_page", args=[row.pk, 1]))
    assert response.status_code == 404


# --- query counts ---------------------------------------------------------------------------------------


def test_the_case_page_costs_the_same_queries_with_many_rows_behind_it(case: Verification) -> None:
    client = signed_in(reviewer("rita", "django_kyc.approve_high_risk"))
    client.get(case_url(case))  # warm caches (content types, permissions of the session)

    def count() -> int:
        with CaptureQueriesContext(connection_for_queries()) as queries:
            assert client.get(case_url(case)).status_code == 200
        return len(queries)

    applicant = case.applicant
    check = AmlCheck.objects.create(applicant=applicant, backend="sandbox", status=AmlStatus.POTENTIAL_MATCH)

    def add_rows(first: int, last: int) -> None:
        for n in range(first, last):
            document = Document.objects.create(applicant=applicant, type="passport", number=f"N{n}")
            DocumentFile.objects.create(
                document=document, side="front", file="x", sha256="0" * 64, content_type="image/png", size=1
            )
            AmlHit.objects.create(aml_check=check, entity_id=f"E{n}", caption=f"Hit {n}", topics=["pep"])
            make_verification(applicant, V.DECLINED)

    add_rows(0, 1)
    few = count()
    add_rows(1, 20)
    many = count()
    assert many == few
    assert few <= 14, few


def connection_for_queries() -> Any:
    from django.db import connection

    return connection
