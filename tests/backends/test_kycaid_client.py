"""KYCAID's client on its own, against the fake server (no database): errors, ids and the documents endpoints."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from django_kyc.backends.kycaid import KycaidBackend, KycaidClient, kycaid_error_message
from django_kyc.exceptions import PermanentProviderError, TransientProviderError
from django_kyc.testing.kycaid import FakeKycaid
from tests.support.files import make_png

TOKEN = "kycaid-client-token"


def response(status: int, body: Any) -> requests.Response:
    built = requests.Response()
    built.status_code, built._content, built.reason = status, json.dumps(body).encode(), "Reason"
    return built


def test_error_message_hook_reads_kycaid_formats() -> None:
    validation = {"type": "validation", "errors": [{"parameter": "dob", "message": "Date of birth is invalid"}]}
    assert kycaid_error_message(response(422, validation)) == "validation error: dob: Date of birth is invalid"
    assert kycaid_error_message(response(403, {"type": "unauthorized", "message": "Denied"})) == "Denied"
    assert kycaid_error_message(response(500, "oops")) == "Reason"
    several = {"errors": [{"parameter": "type"}, {"message": "Too many"}, "plain", {"value": "Jane"}]}
    assert kycaid_error_message(response(422, several)) == "type; Too many; plain"  # never a value we sent
    assert kycaid_error_message(response(422, {"type": "validation", "errors": []})) == "Reason"


@pytest.fixture
def fake() -> Iterator[FakeKycaid]:
    with FakeKycaid(api_token=TOKEN, form_id="form-1") as server:
        yield server


def client_for(fake: FakeKycaid, **options: Any) -> KycaidClient:
    return KycaidBackend(
        "client", {"API_TOKEN": TOKEN, "FORM_ID": "form-1", "BASE_URL": fake.base_url, **options}
    ).client


def test_the_documents_endpoints(fake: FakeKycaid) -> None:
    client = client_for(fake)
    applicant_id = client.create_applicant({"type": "PERSON", "first_name": "Jane", "last_name": "Smith"})
    file_id = client.upload_file("front.png", make_png(), "image/png")
    document_id = client.create_document({"applicant_id": applicant_id, "type": "PASSPORT", "front_side_id": file_id})
    assert client.get_document(document_id)["front_side_id"] == file_id
    assert [d["document_id"] for d in client.get_applicant(applicant_id)["documents"]] == [document_id]

    assert client.update_document(document_id, {"document_number": "X2"}) == document_id
    assert (fake.documents[document_id]["document_number"], fake.calls[-1]) == (
        "X2",
        ("PATCH", f"/documents/{document_id}"),
    )
    client.delete_document(document_id)
    with pytest.raises(PermanentProviderError, match="Document not found") as caught:
        client.get_document(document_id)
    assert caught.value.status_code == 404
    with pytest.raises(PermanentProviderError, match="never sent to KYCAID"):
        client.delete_document("")
    assert fake.calls[-1] == ("GET", f"/documents/{document_id}")  # nothing was sent for the empty id


def test_the_update_verb_is_configurable() -> None:
    backend = KycaidBackend("verb", {"API_TOKEN": TOKEN, "FORM_ID": "f", "DOCUMENT_UPDATE_METHOD": "put"})
    assert backend.client.update_method == "PUT"
    assert KycaidBackend("default", {"API_TOKEN": TOKEN, "FORM_ID": "f"}).client.update_method == "PATCH"


def test_an_answer_without_the_id_or_without_json_is_permanent(fake: FakeKycaid) -> None:
    client = client_for(fake)
    with pytest.raises(PermanentProviderError, match="KYCAID answered without verification_id"):
        client.created_id({"id": "x"}, "verification_id")
    assert client.created_id({"id": "x"}, "file_id", "id") == "x"
    form = client.create_form_url("form-1", {"external_applicant_id": "kyc_1"})
    with pytest.raises(PermanentProviderError, match="is not JSON"):
        client.json("GET", form["form_url"])  # the person's HTML page: KYCAID answered, asking again won't help


def test_authentication_and_outages(fake: FakeKycaid) -> None:
    with pytest.raises(PermanentProviderError, match="invalid API token") as caught:
        KycaidBackend("bad", {"API_TOKEN": "wrong", "FORM_ID": "f", "BASE_URL": fake.base_url}).client.get_verification(
            "v"
        )
    assert caught.value.status_code == 403
    fake.fail_next(1, status=503, message="maintenance")
    with pytest.raises(TransientProviderError):
        client_for(fake).get_verification("v")
