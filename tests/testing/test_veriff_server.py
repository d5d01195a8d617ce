"""What the fake Veriff does beyond the contract: how strict it is about keys, signatures and shapes, and its
deletion rules."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any, cast

import pytest
import requests

from django_kyc.testing.veriff import FakeVeriff, signature
from tests.support.files import make_png

KEY, SECRET = "server-key", "server-secret"


@pytest.fixture
def fake() -> Iterator[FakeVeriff]:
    with FakeVeriff(api_key=KEY, shared_secret=SECRET) as server:
        yield cast(FakeVeriff, server)


def send(
    fake: FakeVeriff,
    method: str,
    path: str,
    body: Any = None,
    *,
    key: str = KEY,
    sign: str | None = "auto",
) -> requests.Response:
    """A request as Veriff wants it: the key, and the signature over the body or the session id (``sign=None``
    sends none; another string is sent as the signature)."""
    data = json.dumps(body).encode() if body is not None else b""
    headers = {"X-AUTH-CLIENT": key, "Content-Type": "application/json"}
    if sign == "auto":
        headers["X-HMAC-SIGNATURE"] = signature(SECRET, data if method in ("POST", "PATCH") else path.split("/")[3])
    elif sign is not None:
        headers["X-HMAC-SIGNATURE"] = sign
    return requests.request(method, fake.base_url + path, data=data or None, headers=headers, timeout=5)


def session(fake: FakeVeriff, **fields: Any) -> str:
    answer = send(fake, "POST", "/v1/sessions", {"verification": fields}, sign=None)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["verification"]["id"])


def image(context: str = "document-front", content: str | None = None) -> dict[str, Any]:
    return {"image": {"context": context, "content": content or base64.b64encode(make_png()).decode()}}


def test_sessions_need_the_key_and_no_signature_but_a_wrong_one_is_refused(fake: FakeVeriff) -> None:
    assert send(fake, "POST", "/v1/sessions", {"verification": {}}, key="wrong", sign=None).status_code == 401
    assert send(fake, "POST", "/v1/sessions", {"verification": {}}, sign=None).status_code == 201
    refused = send(fake, "POST", "/v1/sessions", {"verification": {}}, sign="00" * 32)
    assert refused.status_code == 401
    assert refused.json() == {"status": "fail", "code": "1818", "message": "Signature does not match the payload"}


def test_other_calls_are_signed_over_the_body_or_the_session_id(fake: FakeVeriff) -> None:
    session_id = session(fake)
    assert send(fake, "GET", f"/v1/sessions/{session_id}/decision").json()["verification"] is None
    assert send(fake, "GET", f"/v1/sessions/{session_id}/decision", sign=None).status_code == 401
    body_signed = signature(SECRET, b"{}")
    assert send(fake, "GET", f"/v1/sessions/{session_id}/decision", sign=body_signed).status_code == 401
    assert (
        send(fake, "POST", f"/v1/sessions/{session_id}/media", image(), sign=signature(SECRET, session_id)).status_code
        == 401
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"vendorData": "x" * 1001}, "vendorData must be a string of at most 1000 characters"),
        ({"endUserId": "not-a-uuid"}, "endUserId must be a UUID"),
        ({"person": "Jane"}, "verification.person must be an object"),
    ],
)
def test_session_fields_are_checked(fake: FakeVeriff, fields: dict[str, Any], message: str) -> None:
    answer = send(fake, "POST", "/v1/sessions", {"verification": fields}, sign=None)
    assert (answer.status_code, answer.json()["message"]) == (400, message)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (image("selfie"), "image.context must be one of"),
        (image(content="not base64!"), "image.content is not valid base64"),
        (image(content=base64.b64encode(b"GIF89a").decode()), "is not a JPG, PNG, WEBP or PDF file"),
        ({"picture": {}}, "image is required"),
    ],
)
def test_media_are_checked(fake: FakeVeriff, body: dict[str, Any], message: str) -> None:
    answer = send(fake, "POST", f"/v1/sessions/{session(fake)}/media", body)
    assert answer.status_code == 400
    assert message in answer.json()["message"]


def test_a_data_uri_is_taken_too_and_media_stop_at_the_submit(fake: FakeVeriff) -> None:
    session_id = session(fake)
    uri = "data:image/png;base64," + base64.b64encode(make_png()).decode()
    assert send(fake, "POST", f"/v1/sessions/{session_id}/media", image(content=uri)).status_code == 200
    wrong = send(fake, "PATCH", f"/v1/sessions/{session_id}", {"verification": {"status": "approved"}})
    assert wrong.status_code == 400
    assert send(fake, "PATCH", f"/v1/sessions/{session_id}", {"verification": {"status": "submitted"}}).ok
    again = send(fake, "PATCH", f"/v1/sessions/{session_id}", {"verification": {"status": "submitted"}})
    assert again.status_code == 409
    assert send(fake, "POST", f"/v1/sessions/{session_id}/media", image()).status_code == 409


def test_deletion_is_opt_in_limited_and_only_for_finished_or_untouched_sessions(fake: FakeVeriff) -> None:
    ids = [session(fake) for _ in range(7)]
    fake.decide(ids[0], "submitted")
    refused = send(fake, "DELETE", f"/v1/sessions/{ids[0]}")
    assert (refused.status_code, refused.json()["message"]) == (400, "Session is not in a completed status.")
    fake.decide(ids[0], "approved")
    for session_id in ids[:4]:
        assert send(fake, "DELETE", f"/v1/sessions/{session_id}").json()["message"] == "Session is deleted"
    assert send(fake, "DELETE", f"/v1/sessions/{ids[4]}").status_code == 429  # 5 calls this hour
    assert send(fake, "GET", f"/v1/sessions/{ids[0]}/decision").status_code == 404
    fake.deletion_enabled = False
    assert send(fake, "DELETE", f"/v1/sessions/{ids[5]}").status_code == 403


def test_webhooks_are_event_or_decision_and_signed_over_the_raw_body(fake: FakeVeriff) -> None:
    session_id = session(fake, vendorData="ours")
    body, headers = fake.webhook_for(session_id, "started")
    assert json.loads(body)["action"] == "started"
    assert headers["X-HMAC-SIGNATURE"] == signature(SECRET, body)
    assert headers["X-AUTH-CLIENT"] == KEY
    body, _ = fake.webhook_for(session_id, "declined")
    decision = json.loads(body)["verification"]
    assert (decision["status"], decision["code"], decision["reasonCode"], decision["vendorData"]) == (
        "declined",
        9102,
        102,
        "ours",
    )
    assert fake.webhook_for(session_id)[0] == body  # a resend is the same delivery


def test_the_hosted_page_plays_the_person(fake: FakeVeriff) -> None:
    session_id = session(fake, callback="https://example.com/done")
    page = requests.get(f"{fake.base_url}/v/{session_id}", timeout=5)
    assert "started" in page.text
    answer = requests.post(
        f"{fake.base_url}/v/{session_id}", data={"outcome": "approved"}, allow_redirects=False, timeout=5
    )
    assert (answer.status_code, answer.headers["Location"]) == (303, "https://example.com/done")
    assert fake.sessions[session_id]["decision"]["status"] == "approved"
