"""The review queue's header and the dashboard say whether the background worker runs.

Without a ``qcluster`` a verification stays ``pending`` with no attempts and no page said why. Both pages now
show the age of the sweeper's last run (the real scheduled task is run here, and the clock moved), with the
admin's warning style when it never ran or has stopped.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from django_kyc.tasks import sweep
from tests.support.factories import create_user

pytestmark = pytest.mark.django_db

PAGES = {
    "review queue": "admin:django_kyc_reviewqueueitem_changelist",
    "dashboard": "admin:django_kyc_dashboard",
}


@pytest.fixture
def client(db: Any) -> Client:
    viewer = create_user("lead", "django_kyc.view_verification", "django_kyc.view_reviewqueueitem", staff=True)
    client = Client()
    client.force_login(viewer)
    return client


def worker_line(client: Client, page: str) -> tuple[bool, str, Any]:
    """(shown as a warning, the text shown, the health in the page's context)."""
    response = client.get(reverse(PAGES[page]))
    assert response.status_code == 200
    html = response.content.decode()
    match = re.search(r'id="kyc-worker-health" data-stale="(true|false)">(?:<li class="warning">)?(.*?)</', html)
    assert match, "the page does not show the background worker's health"
    warning = match.group(1) == "true"
    assert warning == ('<li class="warning">' in html.split('id="kyc-worker-health"')[1][:80])
    worker = response.context["queue_counts"]["worker"] if page == "review queue" else response.context["worker"]
    return warning, match.group(2).replace("\xa0", " "), worker


@pytest.mark.parametrize("page", list(PAGES))
def test_the_page_says_when_the_background_worker_never_ran_or_stopped(
    client: Client, page: str, time_machine: Any
) -> None:
    started = timezone.now().replace(microsecond=123456)
    time_machine.move_to(started, tick=False)

    warning, text, _ = worker_line(client, page)
    assert warning
    assert text.startswith("Background worker: the sweeper has never run. Until it runs, new verifications stay")
    assert "manage.py qcluster" in text

    sweep()  # the scheduled task, as the cluster runs it
    warning, text, worker = worker_line(client, page)
    assert not warning
    assert text == "Background worker: the sweeper last ran less than a minute ago."
    assert worker.last_run == started  # read back exactly, time zone and microseconds included
    assert isinstance(worker.last_run, datetime)

    time_machine.move_to(started + timedelta(minutes=4), tick=False)
    assert worker_line(client, page)[:2] == (False, "Background worker: the sweeper last ran 4 minutes ago.")

    time_machine.move_to(started + timedelta(minutes=7), tick=False)
    warning, text, _ = worker_line(client, page)
    assert warning
    assert text.startswith("Background worker: the sweeper last ran 7 minutes ago. Until it runs")
