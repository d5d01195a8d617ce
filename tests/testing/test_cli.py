"""``python -m django_kyc.testing <provider>`` starts a working fake that stops cleanly on Ctrl+C."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from django_kyc.testing import load_server
from tests.pipeline import ROOT


def test_cli_serves_the_provider_api_and_stops_on_sigint() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "django_kyc.testing", "provide", "--port", "0", "--option", "token=cli-token"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("fake provide API at http://127.0.0.1:"), line
        base = line.split(" at ")[1].split()[0]
        request = urllib.request.Request(f"{base}/api/v1/kyc_applications", headers={"Authorization": "bearer nope"})
        with pytest.raises(urllib.error.HTTPError) as denied:
            urllib.request.urlopen(request, timeout=5)
        assert denied.value.code == 401
        assert json.loads(denied.value.read()) == {"message": "unauthorized"}  # provide.RenderError
        request = urllib.request.Request(
            f"{base}/api/v1/kyc_applications", headers={"Authorization": "bearer cli-token"}
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.headers["X-Total-Results-Count"] == "0"
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0


@pytest.mark.parametrize("name", ["../etc", "Provide", "provide.x", ""])
def test_load_server_refuses_names_that_are_not_provider_modules(name: str) -> None:
    with pytest.raises(ValueError, match="not a provider name"):
        load_server(name)
