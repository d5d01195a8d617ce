"""``python -m django_kyc.testing <provider>`` starts a working fake of each provider, configured from the
command line (credentials, automatic decisions), and stops cleanly on Ctrl+C.

One parametrized test runs every fake the same way; what differs per provider (its credentials, an endpoint
that proves the options arrived, an automatic decision and the callback it sends) is one function each.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib
import json
import pkgutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import Message
from typing import Any

import pytest

import django_kyc.testing
from django_kyc.testing import FakeProviderServer, load_server
from django_kyc.testing.allpass import FakeAllpass
from django_kyc.testing.argos import FakeArgos
from django_kyc.testing.kycaid import FakeKycaid
from django_kyc.testing.onfido import FakeOnfido
from django_kyc.testing.passportreader import FakePassportReader
from django_kyc.testing.persona import FakePersona
from django_kyc.testing.provide import FakeProvide
from django_kyc.testing.stripe_identity import FakeStripeIdentity
from django_kyc.testing.sumsub import FakeSumsub, request_signature
from django_kyc.testing.veriff import FakeVeriff, signature
from django_kyc.testing.yente import FakeYente
from tests.support import ROOT
from tests.support.receiver import Receiver


def call(
    url: str, *, method: str = "GET", headers: Mapping[str, str] | None = None, body: Any = None
) -> tuple[int, Message, Any]:
    """One request to the fake: status, headers and the body (JSON decoded when it is JSON)."""
    data = json.dumps(body).encode() if body is not None else None
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    request = urllib.request.Request(url, data=data, headers=all_headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers, _decode(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, _decode(exc.read())


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


# --- what each provider's fake must do once started from the command line --------------------------------


def provide(base: str, receiver: Receiver) -> None:
    """``--option token=…`` is the bearer token; a wrong one gets Provide's error body."""
    status, _, body = call(f"{base}/api/v1/kyc_applications", headers={"Authorization": "bearer nope"})
    assert (status, body) == (401, {"message": "unauthorized"})
    status, headers, _ = call(f"{base}/api/v1/kyc_applications", headers={"Authorization": "bearer cli-token"})
    assert status == 200
    assert headers["X-Total-Results-Count"] == "0"


def allpass(base: str, receiver: Receiver) -> None:
    """``--option private_app_key=…`` is the ``x-private-app-key``; answers come in Allpass's envelope."""
    status, _, body = call(f"{base}/api/public/questionnaire/q-onboarding", headers={"x-private-app-key": "cli-key"})
    assert status == 200
    assert body["status"] is True


def argos(base: str, receiver: Receiver) -> None:
    """``--option api_key=…`` is the ``x-api-key``; nothing exists until someone submits."""
    assert call(f"{base}/v3/submission", headers={"x-api-key": "cli-key"})[::2] == (200, {"Items": []})


def kycaid(base: str, receiver: Receiver) -> None:
    """``--auto-decide approved`` decides a new verification and sends the signed callback to its
    ``callback_url``: ``x-data-integrity`` is the hex HMAC-SHA512, keyed by the API token, of the base64 of
    the body (docs/providers/kycaid.md)."""
    assert call(f"{base}/applicants", method="POST", body={})[0] == 403
    auth = {"Authorization": "Token cli-token"}
    applicant = {"type": "PERSON", "first_name": "A", "last_name": "B"}
    status, _, created = call(f"{base}/applicants", method="POST", headers=auth, body=applicant)
    assert status == 200, created
    verification = {"applicant_id": created["applicant_id"], "form_id": "any", "callback_url": receiver.url}
    assert call(f"{base}/verifications", method="POST", headers=auth, body=verification)[0] == 200
    assert receiver.arrived.wait(10)
    [(body, headers)] = receiver.received
    signature = hmac.new(b"cli-token", base64.b64encode(body), hashlib.sha512).hexdigest()
    assert headers["x-data-integrity"] == signature
    assert json.loads(body)["type"] == "VERIFICATION_COMPLETED"


def onfido(base: str, receiver: Receiver) -> None:
    """``--option api_token=…`` is the ``Token token=…`` credential; ``--auto-decide approved`` walks a new run
    through ``processing`` to the outcome and sends each webhook to every registered webhook, signed with its
    token: ``X-SHA2-Signature`` is the hex HMAC-SHA256 of the body (docs/providers/onfido.md)."""
    assert call(f"{base}/v3.6/applicants", method="POST", body={})[0] == 401
    auth = {"Authorization": "Token token=cli-token"}
    status, _, webhook = call(f"{base}/v3.6/webhooks", method="POST", headers=auth, body={"url": receiver.url})
    assert status == 201, webhook
    status, _, applicant = call(
        f"{base}/v3.6/applicants", method="POST", headers=auth, body={"first_name": "A", "last_name": "B"}
    )
    assert status == 201, applicant
    run = {"workflow_id": "wf", "applicant_id": applicant["id"]}
    assert call(f"{base}/v3.6/workflow_runs", method="POST", headers=auth, body=run)[0] == 201
    for _ in range(100):
        if len(receiver.received) >= 2:
            break
        threading.Event().wait(0.05)
    actions = []
    for body, headers in receiver.received[:2]:
        assert headers["x-sha2-signature"] == hmac.new(webhook["token"].encode(), body, hashlib.sha256).hexdigest()
        actions.append(json.loads(body)["payload"]["action"])
    assert actions == ["workflow_task.started", "workflow_run.completed"]


PASSPORTREADER_AUTH = {"Authorization": "Basic " + base64.b64encode(b"cli-public:cli-secret").decode()}


def passportreader(base: str, receiver: Receiver) -> None:
    """``--option public_key=… --option secret=…`` make the Basic credentials; ``--auto-decide APPROVED``
    walks a new session through INITIATED and COMPLETED to APPROVED."""
    assert call(f"{base}/api/v1/session.create", method="POST", body={})[0] == 401
    status, _, created = call(f"{base}/api/v1/session.create", method="POST", headers=PASSPORTREADER_AUTH, body={})
    assert status == 200, created

    def state() -> tuple[int, Any]:
        url = f"{base}/api/v1/session.state"
        return call(url, method="POST", headers=PASSPORTREADER_AUTH, body={"id": created["id"]})[::2]

    for _ in range(100):  # the states are 0.05 s apart
        if state()[1]["state"] == "APPROVED":
            break
        threading.Event().wait(0.05)
    assert state() == (200, {"state": "APPROVED"})


def stripe_identity(base: str, receiver: Receiver) -> None:
    """``--option secret_key=…`` is the Bearer key, bodies are form-encoded; ``--auto-decide verified`` walks a
    new session through ``processing`` to ``verified``."""
    sessions = f"{base}/v1/identity/verification_sessions"
    assert call(sessions)[0] == 401
    auth = {"Authorization": "Bearer sk_test_cli"}
    request = urllib.request.Request(
        sessions,
        data=b"type=document&client_reference_id=cli",
        headers={**auth, "Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        created = json.loads(response.read())
    assert created["status"] == "requires_input"
    for _ in range(100):  # the steps are 0.05 s apart
        if call(f"{sessions}/{created['id']}", headers=auth)[2]["status"] == "verified":
            break
        threading.Event().wait(0.05)
    assert call(f"{sessions}/{created['id']}", headers=auth)[2]["status"] == "verified"


def sumsub(base: str, receiver: Receiver) -> None:
    """``--option app_token=… --option secret_key=…`` are the pair every request is signed with;
    ``--auto-decide approved`` walks a new applicant through ``pending`` to an approval."""
    assert call(f"{base}/resources/applicants?levelName=basic-kyc-level", method="POST", body={})[0] == 401

    def signed(method: str, target: str, body: Any = None) -> tuple[int, Any]:
        raw = json.dumps(body).encode() if body is not None else b""
        ts = str(int(time.time()))
        headers = {
            "X-App-Token": "sbx:cli-token",
            "X-App-Access-Ts": ts,
            "X-App-Access-Sig": request_signature("cli-secret", ts, method, target, raw),
        }
        return call(f"{base}{target}", method=method, headers=headers, body=body)[::2]

    status, created = signed("POST", "/resources/applicants?levelName=basic-kyc-level", {"externalUserId": "cli"})
    assert status == 200, created
    for _ in range(100):  # the steps are 0.05 s apart
        if signed("GET", f"/resources/applicants/{created['id']}/status")[1]["reviewStatus"] == "completed":
            break
        threading.Event().wait(0.05)
    review = signed("GET", f"/resources/applicants/{created['id']}/status")[1]
    assert review["reviewResult"]["reviewAnswer"] == "GREEN"


def persona(base: str, receiver: Receiver) -> None:
    """``--option api_key=…`` is the Bearer key, bodies are JSON:API; ``--auto-decide approved`` walks a new
    inquiry through ``pending`` and ``completed`` to ``approved``."""
    inquiries = f"{base}/api/v1/inquiries"
    assert call(inquiries)[0] == 401
    auth = {"Authorization": "Bearer persona_sandbox_cli"}
    body = {"data": {"attributes": {"inquiry-template-id": "itmpl_cli", "reference-id": "cli"}}}
    status, _, created = call(inquiries, method="POST", headers=auth, body=body)
    assert status == 201, created
    ref = created["data"]["id"]
    for _ in range(100):  # the steps are 0.05 s apart
        if call(f"{inquiries}/{ref}", headers=auth)[2]["data"]["attributes"]["status"] == "approved":
            break
        threading.Event().wait(0.05)
    assert call(f"{inquiries}/{ref}", headers=auth)[2]["data"]["attributes"]["status"] == "approved"


def veriff(base: str, receiver: Receiver) -> None:
    """``--option api_key=… --option shared_secret=…`` are the integration's credentials; ``--auto-decide
    approved`` walks a new session through ``started`` and ``submitted`` to an approval."""
    assert call(f"{base}/v1/sessions", method="POST", body={"verification": {}})[0] == 401
    auth = {"X-AUTH-CLIENT": "cli-key"}
    status, _, created = call(f"{base}/v1/sessions", method="POST", headers=auth, body={"verification": {}})
    assert status == 201, created
    session_id = created["verification"]["id"]
    signed = {**auth, "X-HMAC-SIGNATURE": signature("cli-secret", session_id)}
    for _ in range(100):  # the steps are 0.05 s apart
        if call(f"{base}/v1/sessions/{session_id}/decision", headers=signed)[2]["verification"]:
            break
        threading.Event().wait(0.05)
    assert call(f"{base}/v1/sessions/{session_id}/decision", headers=signed)[2]["verification"]["status"] == "approved"


def yente(base: str, receiver: Receiver) -> None:
    """``--option api_key=…`` makes it ask for ``Authorization: ApiKey …`` as the hosted API does; ``/match``
    answers a batch keyed as it was sent."""
    body = {"queries": {"k1": {"schema": "Person", "properties": {"name": ["Ivan Sokolov"]}}}}
    assert call(f"{base}/match/default", method="POST", body=body)[0] == 401
    status, _, answer = call(
        f"{base}/match/default", method="POST", headers={"Authorization": "ApiKey cli-key"}, body=body
    )
    assert status == 200, answer
    assert list(answer["responses"]) == ["k1"]


@dataclass(frozen=True)
class Case:
    provider: str
    server: type[FakeProviderServer]
    args: tuple[str, ...]
    exercise: Callable[[str, Receiver], None]


CASES = [
    Case("provide", FakeProvide, ("--option", "token=cli-token"), provide),
    Case("allpass", FakeAllpass, ("--option", "private_app_key=cli-key"), allpass),
    Case("argos", FakeArgos, ("--option", "api_key=cli-key"), argos),
    Case(
        "kycaid",
        FakeKycaid,
        ("--option", "api_token=cli-token", "--auto-decide", "approved", "--delay", "0.2"),
        kycaid,
    ),
    Case(
        "onfido",
        FakeOnfido,
        (
            *("--option", "api_token=cli-token"),
            *("--auto-decide", "approved", "--delay", "0.05"),
        ),
        onfido,
    ),
    Case(
        "passportreader",
        FakePassportReader,
        (
            *("--option", "public_key=cli-public", "--option", "secret=cli-secret"),
            *("--auto-decide", "APPROVED", "--delay", "0.05"),
        ),
        passportreader,
    ),
    Case(
        "persona",
        FakePersona,
        ("--option", "api_key=persona_sandbox_cli", "--auto-decide", "approved", "--delay", "0.05"),
        persona,
    ),
    Case(
        "stripe_identity",
        FakeStripeIdentity,
        ("--option", "secret_key=sk_test_cli", "--auto-decide", "verified", "--delay", "0.05"),
        stripe_identity,
    ),
    Case(
        "sumsub",
        FakeSumsub,
        (
            *("--option", "app_token=sbx:cli-token", "--option", "secret_key=cli-secret"),
            *("--auto-decide", "approved", "--delay", "0.05"),
        ),
        sumsub,
    ),
    Case(
        "veriff",
        FakeVeriff,
        (
            *("--option", "api_key=cli-key", "--option", "shared_secret=cli-secret"),
            *("--auto-decide", "approved", "--delay", "0.05"),
        ),
        veriff,
    ),
    Case("yente", FakeYente, ("--option", "api_key=cli-key"), yente),
]


@pytest.mark.parametrize("case", CASES, ids=[case.provider for case in CASES])
def test_cli_serves_the_provider_api_and_stops_on_sigint(case: Case) -> None:
    assert load_server(case.provider) is case.server
    with Receiver(f"/kyc/webhooks/{case.provider}/") as receiver:
        process = subprocess.Popen(
            [sys.executable, "-m", "django_kyc.testing", case.provider, "--port", "0", *case.args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            assert line.startswith(f"fake {case.provider} API at http://127.0.0.1:"), line
            case.exercise(line.split(" at ")[1].split()[0], receiver)
        finally:
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=10) == 0


def test_every_fake_server_has_a_cli_case() -> None:
    """A new fake (a module of ``django_kyc.testing`` with a ``SERVER``) gets a case above."""
    names = [module.name for module in pkgutil.iter_modules(django_kyc.testing.__path__)]
    modules = [importlib.import_module(f"django_kyc.testing.{name}") for name in names if not name.startswith("_")]
    fakes = {module.__name__.rsplit(".", 1)[1] for module in modules if hasattr(module, "SERVER")}
    assert fakes == {case.provider for case in CASES}


@pytest.mark.parametrize("name", ["../etc", "Provide", "provide.x", ""])
def test_load_server_refuses_names_that_are_not_provider_modules(name: str) -> None:
    with pytest.raises(ValueError, match="not a provider name"):
        load_server(name)
