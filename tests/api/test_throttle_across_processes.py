"""Two web processes of the example project share one write limit.

Each worker below is its own Python process with its own cache objects, as two gunicorn workers are, and both
write as the same user against the same database. With Django's default cache (LocMemCache, one per process)
each counted on its own and ``60/hour`` let the user write 120 times; the example project's cache (a database
table, or Redis with ``REDIS_URL``) is one store, so the limit holds across processes.

The processes run ``example_project.settings`` on a database of their own, prepared the way ``make demo``
prepares it (``migrate``, then ``createcachetable``); they do not see this test's database.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT
from tests.support.services import REDIS_URL, redis_available, require_service

pytestmark = pytest.mark.server  # starts web worker processes of the example project

#: The example project keeps the default rates: 60 writes per hour.
RATE = 60
WRITES_PER_WORKER = 40

#: One web worker: sign in as the shared user (created by the first worker) and PATCH its applicant N times.
WORKER = """
import json, sys
import django

django.setup()
from django.contrib.auth.models import User
from rest_framework.test import APIClient
from django_kyc.models import Applicant

user, _ = User.objects.get_or_create(pk=int(sys.argv[1]), defaults={"username": "throttled"})
applicant, _ = Applicant.objects.get_or_create(user=user, defaults={"last_name": "Doe"})
client = APIClient(HTTP_HOST="localhost")
client.force_authenticate(user)
url = f"/kyc/api/applicants/{applicant.pk}/"
print(json.dumps([client.patch(url, {"city": f"c{n}"}, format="json").status_code for n in range(int(sys.argv[2]))]))
"""


def example_project(tmp_path: Path, redis: bool) -> dict[str, str]:
    """The environment of an example-project process on a fresh SQLite database, with or without Redis."""
    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "DATABASE_URL")}
    env |= {"DJANGO_SETTINGS_MODULE": "example_project.settings", "DATABASE_URL": f"sqlite:///{tmp_path / 'db'}"}
    if redis:
        env["REDIS_URL"] = REDIS_URL
    return env


def run(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("cache", ["database", "redis"])
def test_two_web_processes_share_one_write_limit(cache: str, tmp_path: Path) -> None:
    if cache == "redis":
        require_service("Redis", redis_available(), "set REDIS_URL or start redis-server on 127.0.0.1:6379")
    env = example_project(tmp_path, redis=cache == "redis")
    run(env, "manage.py", "migrate", "--noinput")
    run(env, "manage.py", "createcachetable")
    # a user id no earlier run used, so a throttle history left in Redis by another run cannot count here
    user_id = str(secrets.randbelow(2**31 - 2) + 1)

    first, second = (json.loads(run(env, "-c", WORKER, user_id, str(WRITES_PER_WORKER))) for _ in range(2))

    assert first == [200] * WRITES_PER_WORKER
    allowed = RATE - WRITES_PER_WORKER
    assert second == [200] * allowed + [429] * (WRITES_PER_WORKER - allowed), (
        f"the second process made {second.count(200)} writes; together they made "
        f"{first.count(200) + second.count(200)} against a limit of {RATE}/hour"
    )
