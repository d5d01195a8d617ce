"""The README's "Add it to an existing site", followed literally on a project fresh from ``startproject``.

The code blocks are read from README.md itself, so the section cannot promise what does not work: the keys are
generated with the README's own commands, its settings and URLs are appended to the new project's files, its
``manage.py`` commands run (all but the long-running ``qcluster`` and ``kyc_health``, which needs one), and a
non-staff user then calls the API both ways the section shows: a session from the login page with the CSRF
header, and a token.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^ *```(\w+)\n(.*?)^ *```", re.MULTILINE | re.DOTALL)


def section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("## Add it to an existing site")
    return readme[start : readme.index("\n## ", start + 1)]


def blocks(language: str) -> list[str]:
    return [textwrap.dedent(body) for lang, body in FENCE.findall(section()) if lang == language]


def python_block(first_line: str) -> str:
    (block,) = [body for body in blocks("python") if body.startswith(first_line)]
    return block


def commands() -> list[str]:
    """The ``$ ...`` lines of the console blocks (comments dropped, continuation lines joined)."""
    lines = []
    for block in blocks("console"):
        for line in block.replace("\\\n", " ").splitlines():
            if line.startswith("$ "):
                lines.append(line[2:].split("  #")[0].strip())
    return lines


def key_environment() -> dict[str, str]:
    """Run the README's ``export NAME="$(python -c '...')"`` lines with this interpreter."""
    env = {}
    for line in commands():
        match = re.fullmatch(r"export (\w+)=\"\$\(python -c '(.*)'\)\"", line)
        if match:
            printed = subprocess.run([sys.executable, "-c", match[2]], capture_output=True, text=True, check=True)
            env[match[1]] = printed.stdout.strip()
    return env


CREATE_ALICE = (
    'from django.contrib.auth.models import User; User.objects.create_user("alice", password="correct horse")'
)
CLIENT_SCRIPT = """
import json, re
from django.contrib.auth.models import User
from django.test import Client
from django.test.utils import setup_test_environment

setup_test_environment()  # the test client's host name
results = {}

browser = Client(enforce_csrf_checks=True)
results["login_page"] = browser.get("/accounts/login/").status_code
token = browser.cookies["csrftoken"].value
login = browser.post("/accounts/login/", {"username": "alice", "password": "correct horse",
                     "csrfmiddlewaretoken": token})
results["login"] = login.status_code
results["mine_before"] = browser.get("/kyc/api/applicants/?mine=true").json()["count"]
body = json.dumps({"first_name": "Ada", "last_name": "Lovelace", "nationality": "GB"})
results["post_without_csrf"] = browser.post("/kyc/api/applicants/", body, content_type="application/json").status_code
created = browser.post("/kyc/api/applicants/", body, content_type="application/json",
                       headers={"X-CSRFToken": browser.cookies["csrftoken"].value})
results["post_with_csrf"] = created.status_code
applicant = created.json()
results["actions"] = applicant["actions"]
verification = browser.post(f"/kyc/api/applicants/{applicant['id']}/verifications/",
                            json.dumps({"backend": "sandbox_hosted"}), content_type="application/json",
                            headers={"X-CSRFToken": browser.cookies["csrftoken"].value})
results["hosted_start"] = verification.status_code, verification.json().get("backend")

api = Client(headers={"Authorization": "Token " + TOKEN})
results["token_mine"] = [row["last_name"] for row in api.get("/kyc/api/applicants/?mine=true").json()["results"]]
print("RESULTS" + json.dumps(results))
"""


@pytest.mark.timeout(300)
def test_the_readme_quickstart_works_when_followed_literally(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "KYC_"))}
    env |= key_environment()
    assert set(env) >= {"KYC_ENCRYPTION_KEYS", "KYC_BLIND_INDEX_KEY"}

    def run(*args: str) -> str:
        done = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True)
        assert done.returncode == 0, f"{shlex.join(args)}\n{done.stdout}\n{done.stderr}"
        return done.stdout + done.stderr

    run(sys.executable, "-m", "django", "startproject", "mysite", ".")
    settings, urls = tmp_path / "mysite" / "settings.py", tmp_path / "mysite" / "urls.py"
    settings.write_text(settings.read_text() + "\n" + python_block("# settings.py"))
    urls.write_text(urls.read_text() + "\n" + python_block("# urls.py"))
    # the login page's template and the TEMPLATES line, as the section gives them
    template = re.search(r"`(<form method=\"post\">.*?</form>)`", section(), re.DOTALL)
    templates_dirs = re.search(r"`(TEMPLATES\[0\]\[\"DIRS\"\] = .*?)`", section())
    assert template
    assert templates_dirs
    (tmp_path / "templates" / "registration").mkdir(parents=True)
    (tmp_path / "templates" / "registration" / "login.html").write_text(template[1])
    settings.write_text(settings.read_text() + "\n" + templates_dirs[1] + "\n")

    manage = [line for line in commands() if line.startswith("python manage.py ")]
    assert "python manage.py migrate" in manage
    for line in manage:
        if line.split()[2] in ("qcluster", "kyc_health"):  # runs until stopped; exits 1 without a cluster
            continue
        output = run(sys.executable, *shlex.split(line)[1:])
        if line == "python manage.py check":
            assert "System check identified no issues" in output, output

    # a non-staff user, and a token for her with the README's own command
    run(sys.executable, "manage.py", "shell", "-c", CREATE_ALICE)
    (create_token,) = re.findall(r"python manage\.py drf_create_token \w+", section())
    printed = run(sys.executable, *create_token.split()[1:])
    token = re.search(r"Generated token (\w+) for user alice", printed)[1]  # type: ignore[index]
    output = run(sys.executable, "manage.py", "shell", "-c", f"TOKEN = {token!r}\n{CLIENT_SCRIPT}")
    results = json.loads(output.split("RESULTS", 1)[1].splitlines()[0])
    assert results == {
        "login_page": 200,
        "login": 302,
        "mine_before": 0,
        "post_without_csrf": 403,
        "post_with_csrf": 201,
        "actions": {"update": True, "upload_document": True, "start_verification": True},
        "hosted_start": [201, "sandbox_hosted"],
        "token_mine": ["Lovelace"],
    }
