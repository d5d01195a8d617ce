"""What the fake Onfido does beyond the contract: Onfido's error body, request checks, the document rules, lists,
scheduled deletion, SDK tokens, registered webhooks and the back office."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from django_kyc.backends.onfido import sign
from django_kyc.backends.onfido.tokens import jwt_expiry
from django_kyc.testing.onfido import WATCHLIST_RECORD, FakeOnfido
from tests.support.files import PDF_BYTES, make_png
from tests.support.receiver import Receiver

AUTH = {"Authorization": "Token token=server-token"}


@pytest.fixture
def onfido() -> Iterator[FakeOnfido]:
    with FakeOnfido(api_token="server-token", webhook_token="hook-token", workflow_id="wf-1") as fake:
        yield fake


def call(onfido: FakeOnfido, method: str, path: str, **kwargs: Any) -> requests.Response:
    headers = {**AUTH, **kwargs.pop("headers", {})}
    return requests.request(method, f"{onfido.api_url}{path}", headers=headers, timeout=5, **kwargs)


def applicant(onfido: FakeOnfido, **fields: Any) -> dict[str, Any]:
    answer = call(onfido, "POST", "/applicants", json={"first_name": "Jane", "last_name": "Smith", **fields})
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def png(size: int = 4096) -> bytes:
    return make_png(2, 2) + b"\x00" * max(0, size - len(make_png(2, 2)))


def upload(onfido: FakeOnfido, applicant_id: str, content: bytes, **fields: str) -> requests.Response:
    data = {"applicant_id": applicant_id, "type": "passport", **fields}
    return call(onfido, "POST", "/documents", data=data, files={"file": ("f.png", content, "image/png")})


def test_credentials_and_the_error_body(onfido: FakeOnfido) -> None:
    for header in ({}, {"Authorization": "Token server-token"}, {"Authorization": "Token token=wrong"}):
        answer = requests.get(f"{onfido.api_url}/applicants", headers=header, timeout=5)
        assert answer.status_code == 401
        assert answer.json()["error"]["type"] == "authorization_error"
    missing = call(onfido, "GET", "/nothing")
    assert (missing.status_code, missing.json()["error"]["type"]) == (404, "resource_not_found")


def test_applicants_are_validated_with_field_messages(onfido: FakeOnfido) -> None:
    answer = call(onfido, "POST", "/applicants", json={"first_name": "J<", "dob": "03/02/1990", "nickname": "x"})
    assert answer.status_code == 422
    fields = answer.json()["error"]["fields"]
    assert set(fields) == {"first_name", "last_name", "dob", "nickname"}
    sent_as_form = call(onfido, "POST", "/applicants", data={"first_name": "Jane"})
    assert sent_as_form.status_code == 415


def test_applicants_are_listed_newest_first_and_paged(onfido: FakeOnfido, time_machine: Any) -> None:
    time_machine.move_to("2026-01-01T10:00:00Z", tick=False)
    first = applicant(onfido)
    time_machine.move_to("2026-01-01T10:01:00Z", tick=False)
    second = applicant(onfido)
    page = call(onfido, "GET", "/applicants", params={"per_page": 1}).json()["applicants"]
    assert [a["id"] for a in page] == [second["id"]]
    page_two = call(onfido, "GET", "/applicants", params={"per_page": 1, "page": 2}).json()["applicants"]
    assert [a["id"] for a in page_two] == [first["id"]]


def test_deletion_is_scheduled_hidden_from_the_list_and_restorable(onfido: FakeOnfido) -> None:
    person = applicant(onfido)
    assert call(onfido, "POST", f"/applicants/{person['id']}/restore").status_code == 422  # not scheduled
    assert call(onfido, "DELETE", f"/applicants/{person['id']}").status_code == 204
    assert call(onfido, "GET", f"/applicants/{person['id']}").json()["delete_at"]
    assert call(onfido, "GET", "/applicants").json()["applicants"] == []
    listed = call(onfido, "GET", "/applicants", params={"include_deleted": "true"}).json()["applicants"]
    assert [a["id"] for a in listed] == [person["id"]]
    assert call(onfido, "POST", "/sdk_token", json={"applicant_id": person["id"]}).status_code == 422
    assert call(onfido, "POST", f"/applicants/{person['id']}/restore").status_code == 204
    assert call(onfido, "GET", f"/applicants/{person['id']}").json()["delete_at"] is None


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 4096, "The valid file types are: jpg, png and pdf"),
        (make_png(2, 2), "The file size must be between 2KB and 3MB"),
        (png(3 * 1024 * 1024 + 1), "The file size must be between 2KB and 3MB"),
    ],
    ids=["webp", "too-small", "too-large"],
)
def test_documents_follow_onfidos_file_rules(onfido: FakeOnfido, content: bytes, problem: str) -> None:
    person = applicant(onfido)
    answer = upload(onfido, person["id"], content)
    assert answer.status_code == 422
    assert answer.json()["error"]["fields"]["file"] == [problem]


def test_documents_are_multipart_with_a_known_type(onfido: FakeOnfido) -> None:
    person = applicant(onfido)
    assert upload(onfido, person["id"], png(), type="selfie").json()["error"]["fields"] == {
        "type": ["is not a valid document type"]
    }
    as_json = call(onfido, "POST", "/documents", json={"applicant_id": person["id"], "type": "passport"})
    assert as_json.status_code == 415
    pdf = PDF_BYTES if len(PDF_BYTES) >= 2048 else PDF_BYTES + b"\n" * 2048
    stored = call(
        onfido,
        "POST",
        "/documents",
        data={"applicant_id": person["id"], "type": "bank_statement"},
        files={"file": ("statement.pdf", pdf, "application/pdf")},
    )
    assert stored.status_code == 201, stored.text
    assert (stored.json()["file_type"], stored.json()["file_name"]) == ("pdf", "statement.pdf")
    listed = call(onfido, "GET", "/documents", params={"applicant_id": person["id"]}).json()["documents"]
    assert [d["id"] for d in listed] == [stored.json()["id"]]


def test_sdk_tokens_answer_200_and_state_their_expiry(onfido: FakeOnfido) -> None:
    person = applicant(onfido)
    answer = call(onfido, "POST", "/sdk_token", json={"applicant_id": person["id"], "referrer": "https://*.example/*"})
    assert answer.status_code == 200
    assert jwt_expiry(answer.json()["token"]) is not None


def test_checks_need_the_applicants_documents_and_the_sandbox_consider_list(onfido: FakeOnfido) -> None:
    person = applicant(onfido)
    no_document = call(onfido, "POST", "/checks", json={"applicant_id": person["id"], "report_names": ["document"]})
    assert no_document.json()["error"]["fields"] == {
        "document_ids": ["a document report needs a document of the applicant"]
    }
    upload(onfido, person["id"], png())
    body = {"applicant_id": person["id"], "report_names": ["document", "watchlist_standard"], "consider": ["document"]}
    check = call(onfido, "POST", "/checks", json=body).json()
    onfido.decide(check["id"], "approved")
    reports = {
        r["name"]: r for r in call(onfido, "GET", "/reports", params={"check_id": check["id"]}).json()["reports"]
    }
    assert (reports["document"]["result"], reports["document"]["sub_result"]) == ("consider", "caution")
    assert reports["watchlist_standard"]["result"] == "clear"
    assert reports["watchlist_standard"]["properties"] == {"records": []}
    onfido.decide(check["id"], "consider")
    report = call(onfido, "GET", f"/reports/{reports['watchlist_standard']['id']}").json()
    assert report["properties"]["records"] == [WATCHLIST_RECORD]


def test_workflow_runs_check_the_workflow_and_list_as_a_bare_array(onfido: FakeOnfido) -> None:
    person = applicant(onfido)
    wrong = call(onfido, "POST", "/workflow_runs", json={"workflow_id": "other", "applicant_id": person["id"]})
    assert wrong.json()["error"]["fields"] == {"workflow_id": ["not found"]}
    body = {"workflow_id": "wf-1", "applicant_id": person["id"], "tags": ["ours"], "link": {"expires_at": "soon"}}
    assert call(onfido, "POST", "/workflow_runs", json=body).json()["error"]["fields"] == {
        "link.expires_at": ["must be a date-time"]
    }
    del body["link"]
    run = call(onfido, "POST", "/workflow_runs", json=body).json()
    assert run["sdk_token"]
    assert call(onfido, "GET", f"/workflow_runs/{run['id']}").json()["sdk_token"] is None
    listed = call(onfido, "GET", "/workflow_runs", params={"applicant_id": person["id"], "tags": ["ours"]}).json()
    assert [r["id"] for r in listed] == [run["id"]]
    assert call(onfido, "GET", "/workflow_runs", params={"tags": ["theirs"]}).json() == []
    assert call(onfido, "GET", "/workflow_runs", params={"status": "approved,declined"}).json() == []


def test_webhooks_sign_the_body_and_repeat_the_same_state_identically(onfido: FakeOnfido) -> None:
    person = applicant(onfido)
    run = call(onfido, "POST", "/workflow_runs", json={"workflow_id": "wf-1", "applicant_id": person["id"]}).json()
    body, headers = onfido.webhook_for(run["id"])
    assert headers["X-SHA2-Signature"] == sign(body, "hook-token")
    assert json.loads(body)["payload"]["resource"]["workflow_run_id"] == run["id"]
    assert onfido.webhook_for(run["id"]) == (body, headers)
    onfido.decide(run["id"], "approved")
    completed = json.loads(onfido.webhook_for(run["id"])[0])["payload"]
    assert (completed["action"], completed["object"]["status"]) == ("workflow_run.completed", "approved")


def test_every_registered_webhook_gets_the_delivery_signed_with_its_token(onfido: FakeOnfido) -> None:
    with Receiver("/a/") as first, Receiver("/b/") as second:
        assert call(onfido, "POST", "/webhooks", json={"url": "http://example.com/hook"}).status_code == 422
        tokens = [call(onfido, "POST", "/webhooks", json={"url": r.url}).json()["token"] for r in (first, second)]
        only_checks = {"url": first.url, "events": ["check.completed"]}
        assert call(onfido, "POST", "/webhooks", json=only_checks).status_code == 201
        person = applicant(onfido)
        run = call(onfido, "POST", "/workflow_runs", json={"workflow_id": "wf-1", "applicant_id": person["id"]})
        assert onfido.deliver(run.json()["id"]) == 200
        for receiver, token in zip((first, second), tokens, strict=True):
            [(body, headers)] = receiver.received
            assert headers["x-sha2-signature"] == sign(body, token)
