"""django-onfido, installed and migrated for one test, and rows in its real models.

django-onfido is in the test extra but not in the suite's ``INSTALLED_APPS``: there, its tables, admin and
migrations would be in every test. :func:`installed` adds it for transactional tests, runs its migrations
in the test database and drops its tables afterwards (its migration 0012 cannot be unapplied).

The rows are made the way django-onfido makes them from Onfido's API answers: ``create_applicant``,
``create_check`` and ``create_report`` parse a JSON body (and scrub it), and webhook events are parsed from
a callback body.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.core.management import call_command
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.test import override_settings

WITH_DJANGO_ONFIDO = [*settings.INSTALLED_APPS, "onfido"]
#: Dependants first, so no foreign key is left pointing at a dropped table.
MODELS = ("Event", "Report", "Check", "Applicant")

START = datetime(2024, 3, 1, 9, 0, tzinfo=timezone.utc)


@contextmanager
def installed() -> Iterator[None]:
    """django-onfido in ``INSTALLED_APPS`` with its tables migrated, for transactional tests (whose flush
    empties its tables with the others)."""
    with override_settings(INSTALLED_APPS=WITH_DJANGO_ONFIDO):
        call_command("migrate", "onfido", verbosity=0)
        try:
            yield
        finally:
            with connection.schema_editor() as editor:
                for name in MODELS:
                    editor.delete_model(apps.get_model("onfido", name))
            MigrationRecorder(connection).migration_qs.filter(app="onfido").delete()
            # its admin registered itself when the app registry was repopulated
            for model in [m for m in admin.site._registry if m._meta.app_label == "onfido"]:
                admin.site.unregister(model)


def model(name: str) -> Any:
    return apps.get_model("onfido", name)


def at(minutes: int) -> datetime:
    return START + timedelta(minutes=minutes)


def new_id() -> str:
    return str(uuid.uuid4())


def applicant(user: Any, minutes: int = 0) -> Any:
    """An Onfido applicant; the name in the body is dropped by django-onfido's default scrubber."""
    raw = {
        "id": new_id(),
        "created_at": at(minutes).isoformat(),
        "href": "/v3/applicants/x",
        "first_name": "Jane",
        "last_name": "Doe",
    }
    return model("Applicant").objects.create_applicant(user, raw)


def check(onfido_applicant: Any, status: str, result: str | None = None, minutes: int = 0) -> Any:
    check_id = new_id()
    raw = {
        "id": check_id,
        "created_at": at(minutes).isoformat(),
        "status": status,
        "result": result,
        "href": f"/v3/checks/{check_id}",
        "results_uri": f"https://dashboard.onfido.com/checks/{check_id}",
    }
    return model("Check").objects.create_check(onfido_applicant, raw)


def report(
    onfido_check: Any,
    name: str,
    status: str = "complete",
    result: str | None = "clear",
    sub_result: str | None = None,
    minutes: int = 0,
    documents: list[dict[str, str]] | None = None,
) -> Any:
    raw: dict[str, Any] = {
        "id": new_id(),
        "created_at": at(minutes).isoformat(),
        "name": name,
        "status": status,
        "result": result,
        # dropped by django-onfido's default scrubber, like every breakdown
        "breakdown": {"date_of_birth": {"result": "clear", "properties": {"value": "1990-01-01"}}},
    }
    if sub_result is not None:
        raw["sub_result"] = sub_result
    if documents is not None:
        raw["documents"] = documents
    return model("Report").objects.create_report(onfido_check, raw)


def event(resource: Any, action: str, status: str, minutes: int = 0) -> Any:
    """A webhook event as django-onfido stores it (``ONFIDO_LOG_EVENTS``)."""
    body = {
        "payload": {
            "resource_type": resource._meta.model_name,
            "action": action,
            "object": {
                "id": resource.onfido_id,
                "status": status,
                "completed_at_iso8601": at(minutes).isoformat(),
                "href": f"/v3/{resource.base_href}/{resource.onfido_id}",
            },
        }
    }
    row = model("Event")(received_at=at(minutes))
    row.parse(body)
    row.save()
    return row


def complete(onfido_check: Any, result: str, minutes: int) -> None:
    """What django-onfido does when Onfido's webhook says a check is complete (without calling Onfido)."""
    model("Check").objects.filter(pk=onfido_check.pk).update(status="complete", result=result, updated_at=at(minutes))
