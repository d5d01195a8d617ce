"""The fake ARGOS speaks the API the way ARGOS's pages describe it (real HTTP on loopback)."""

from __future__ import annotations

import base64
import hashlib
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest

from django_kyc.testing import load_server
from django_kyc.testing.argos import REPORT_PDF, FakeArgos, decrypt, encrypt

KEY = "argos-fake-key"


@pytest.fixture
def fake() -> Iterator[FakeArgos]:
    with FakeArgos(api_key=KEY, project_id="p1", admin="admin@example.com") as server:
        yield server


def call(
    fake: FakeArgos, method: str, path: str, query: dict[str, Any] | None = None, body: Any = None, key: str = KEY
) -> tuple[int, Any]:
    url = f"{fake.api_base}/{path}" + (f"?{urlencode(query)}" if query else "")
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    if key:
        headers["x-api-key"] = key
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            raw = response.read()
            return response.status, raw if raw.startswith(b"%PDF") else json.loads(raw)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_server_is_loadable_by_name() -> None:
    assert load_server("argos") is FakeArgos


@pytest.mark.parametrize("key", ["", "wrong-key"])
def test_missing_or_wrong_api_key_gets_api_gateways_403(fake: FakeArgos, key: str) -> None:
    assert call(fake, "GET", "submission", key=key) == (403, {"message": "Forbidden"})


def test_nothing_exists_until_the_person_submits(fake: FakeArgos) -> None:
    assert call(fake, "GET", "submission") == (200, {"Items": []})
    ref = fake.submit("user-1", "a@example.com", cf={"cf1": "x"})
    status, body = call(fake, "GET", "submission", {"submission_id": ref})
    assert status == 200
    (item,) = body["Items"]
    assert (item["submission_id"], item["userid"], item["kyc"]["result"]) == (ref, "user-1", "incomplete")
    assert fake.applicant_count() == 1


def test_pages_are_walked_with_nextpage_id_and_date(fake: FakeArgos) -> None:
    refs = [fake.submit(f"u{i}") for i in range(5)]
    seen: list[str] = []
    query: dict[str, Any] = {"count": 2}
    pages = 0
    while True:
        status, body = call(fake, "GET", "submission", query)
        assert status == 200
        pages += 1
        seen += [item["submission_id"] for item in body["Items"]]
        if "nextpageKey" not in body:
            break
        query = {
            "count": 2,
            "nextpage_id": body["nextpageKey"]["id"],
            "nextpage_date": body["nextpageKey"]["created_at"],
        }
    assert pages == 3
    assert seen == list(reversed(refs))  # newest first, each once


def test_list_filters_by_userid_email_and_dates(fake: FakeArgos) -> None:
    a = fake.submit("u1", "one@example.com")
    fake.submit("u2", "two@example.com")
    _, by_user = call(fake, "GET", "submission", {"userid": "u1"})
    _, by_email = call(fake, "GET", "submission", {"email": "one@example.com"})
    assert [i["submission_id"] for i in by_user["Items"]] == [a]
    assert [i["submission_id"] for i in by_email["Items"]] == [a]
    _, future = call(fake, "GET", "submission", {"start_date": "2999-01-01"})
    assert future == {"Items": []}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"count": "many"}, {"errorCode": "invalid_format", "message": "Invalid format: count"}),
        ({"start_date": "01/02/2024"}, {"errorCode": "invalid_format", "message": "Invalid format: start_date"}),
        ({"nextpage_id": "x"}, {"errorCode": "missing_data", "message": "Required input data is missing"}),
        ({"request_type": "all"}, {"errorCode": "invalid_parameter", "message": "Invalid parameter: request_type"}),
        ({"colour": "red"}, {"message": "Invalid Query String parameters", "statusCode": 400}),
    ],
)
def test_bad_queries_get_argos_error_bodies(fake: FakeArgos, query: dict[str, str], expected: dict[str, Any]) -> None:
    assert call(fake, "GET", "submission", query) == (400, expected)


def test_request_type_selects_the_data_groups(fake: FakeArgos) -> None:
    ref = fake.submit("u1")
    fake.decide(ref, "approved")
    _, kyc = call(fake, "GET", "submission", {"submission_id": ref, "request_type": "kyc"})
    _, others = call(fake, "GET", "submission", {"submission_id": ref, "request_type": "others"})
    assert set(kyc["Items"][0]) == {"submission_id", "kyc"}
    assert not {"kyc", "aml", "data"} & set(others["Items"][0])


def test_review_only_pending_submissions_by_a_registered_admin(fake: FakeArgos) -> None:
    ref = fake.submit("u1")
    body = {"admin": "admin@example.com", "submissionId": ref, "status": "approved"}
    assert call(fake, "POST", "submission/review", body=body)[1]["message"] == (
        "Only submissions in pending status can be reviewed"
    )
    fake.decide(ref, "pending")
    assert call(fake, "POST", "submission/review", body={**body, "admin": "x@example.com"})[0] == 400
    assert call(fake, "POST", "submission/review", body={**body, "status": "rejected"})[1]["message"] == (
        "Reject comment is required"
    )
    assert call(fake, "POST", "submission/review", body=body) == (
        200,
        {"submissionId": ref, "message": "Success to review submission.", "finalStatus": "approved"},
    )
    assert fake.submission(ref)["kyc"]["result"] == "approved"


def test_delete_purges_personal_data_and_keeps_the_result(fake: FakeArgos) -> None:
    ref = fake.submit("u1", "a@example.com")
    fake.decide(ref, "approved")
    assert call(fake, "DELETE", "submission") == (400, {"message": "not Exist Submission ID", "statusCode": 400})
    assert call(fake, "DELETE", "submission", {"submission_id": "nope"})[1]["message"] == "not Exist Submission Data"
    status, body = call(fake, "DELETE", "submission", {"submission_id": ref, "admin_name": "admin@example.com"})
    assert (status, body["message"]) == (200, "success")
    kept = fake.submission(ref)
    assert kept["kyc"]["result"] == "approved"
    assert kept["data"] == {"idType": "passport"}
    assert "aml" not in kept
    assert kept["email"] == ""


def test_aml_report_is_a_pdf(fake: FakeArgos) -> None:
    ref = fake.submit("u1")
    fake.decide(ref, "approved")
    fake.set_aml(ref, matches=[{"score": 88.0}])
    resource = fake.submission(ref)["aml"]["matches"][0]["resource_id"]
    assert call(fake, "GET", "report/aml", {"resourceId": resource}) == (200, REPORT_PDF)
    assert call(fake, "GET", "report/aml", {"resourceId": "nope"})[0] == 400


def test_monitoring_enrols_approved_submissions_only(fake: FakeArgos) -> None:
    approved, pending = fake.submit("u1"), fake.submit("u2")
    fake.decide(approved, "approved")
    fake.decide(pending, "pending")
    status, body = call(
        fake,
        "POST",
        "submission/aml/monitor/wl-9",
        body={"submissionIds": [approved, pending], "admin": "admin@example.com"},
    )
    assert status == 200
    assert (body["successCount"], body["failedCount"]) == (1, 1)
    (record,) = body["successResults"][0]["recordIds"]
    assert record.endswith(f"_{approved}")  # the vendor's example record id: "<12 characters>_<submission id>"
    assert body["failedResults"][0]["error"] == f"This submission is not approved: {pending}"
    status, shown = call(fake, "GET", f"submission/aml/monitor/wl-9/{record}")
    assert (status, shown["id"], shown["submissionId"], shown["status"]) == (200, record, approved, "screenedNoMatches")
    assert call(fake, "GET", "submission/aml/monitor/wl-9/nope")[0] == 404
    # a batch in which nothing could be registered is an error, as the vendor documents
    status, body = call(
        fake, "POST", "submission/aml/monitor/wl-9", body={"submissionIds": [pending], "admin": "admin@example.com"}
    )
    assert (status, body["errorCode"]) == (500, "all_submissions_failed")


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        ("results", lambda ref: "results" in ref and ref["results"][0]["recordId"]),
        ("summary", lambda ref: ref == {"summary": {"successCount": 1, "failedCount": 0}}),
    ],
)
def test_monitoring_answer_can_take_other_plausible_shapes(shape: str, expected: Any) -> None:
    with FakeArgos(api_key=KEY, project_id="p1", monitor_answer=shape) as server:
        ref = server.submit("u1")
        server.decide(ref, "approved")
        status, body = call(
            server, "POST", "submission/aml/monitor/wl-1", body={"submissionIds": [ref], "admin": "admin@example.com"}
        )
        assert status == 200
        assert expected(body)
        assert server.monitored == {"wl-1": [ref]}


def test_encrypted_project_encrypts_answers_and_webhooks_with_sha256_of_the_key() -> None:
    with FakeArgos(api_key=KEY, project_id="p1", encryption=True) as server:
        ref = server.submit("u1")
        status, body = call(server, "GET", "submission", {"submission_id": ref})
        key = hashlib.sha256(KEY.encode()).digest()
        assert status == 200
        assert body["isEncrypted"] is True
        assert json.loads(decrypt(key, body["data"]))["Items"][0]["submission_id"] == ref
        raw, _ = server.webhook_for(ref, "approved")
        hook = json.loads(decrypt(key, json.loads(raw)["data"]))
        assert (hook["webhook_trigger"], hook["submission_id"]) == ("approved", ref)
        # request bodies must arrive encrypted too
        plain = {"admin": "admin@example.com", "submissionId": ref, "status": "approved"}
        assert call(server, "POST", "submission/review", body=plain)[0] == 400


def test_cipher_round_trip_and_padding() -> None:
    key = hashlib.sha256(b"k").digest()
    for size in (0, 1, 15, 16, 17):
        assert decrypt(key, encrypt(key, b"x" * size)) == b"x" * size
    assert len(base64.b64decode(encrypt(key, b"x" * 16))) == 32  # a full block of padding


def test_webhook_shape_and_trigger(fake: FakeArgos) -> None:
    ref = fake.submit("u1", "a@example.com", cf={"cf1": "ref-1"})
    for outcome, trigger in (("pending", "submit"), ("retry", "retry"), ("rejected", "rejected")):
        body, headers = fake.webhook_for(ref, outcome)
        payload = json.loads(body)
        assert payload["webhook_trigger"] == trigger
        assert payload["kyc_result"]["updated_at"] == fake.submission(ref)["updated_at"]
        assert (payload["userid"], payload["cf"]) == ("u1", {"cf1": "ref-1"})
        assert headers == {"Content-Type": "application/json"}


def test_liveform_link_creates_a_submission_and_refuses_other_projects(fake: FakeArgos) -> None:
    with urllib.request.urlopen(f"{fake.liveform_url}?pid=p1&userid=u9&email=z@example.com", timeout=5) as page:
        assert page.status == 200
    (only,) = fake.submissions.values()
    assert (only["userid"], only["email"]) == ("u9", "z@example.com")
    with pytest.raises(ValueError, match="unknown project"):
        fake.open_liveform(f"{fake.liveform_url}?pid=other&userid=u9")


def test_injected_faults_come_first(fake: FakeArgos) -> None:
    fake.fail_next(1, status=502, message="Bad Gateway")
    assert call(fake, "GET", "submission") == (502, {"message": "Bad Gateway", "statusCode": 502})
    assert call(fake, "GET", "submission")[0] == 200
