"""``manage.py kyc_import_django_onfido``: options, progress bar and summary."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from django_kyc.models import Applicant, Verification
from tests.support import django_onfido as onfido
from tests.support.factories import create_user
from tests.support.logs import capture_logs


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("kyc_import_django_onfido", *args, stdout=out)
    return out.getvalue()


def three_users_on_django_onfido() -> None:
    for index, name in enumerate(("hana", "ivan", "judit")):
        onfido.check(onfido.applicant(create_user(name)), "complete", "clear", minutes=index)


@pytest.mark.usefixtures("onfido_tables")
def test_it_shows_a_progress_bar_per_batch_and_a_summary() -> None:
    three_users_on_django_onfido()

    output = run("--batch-size", "2")

    assert "[####################----------] 2/3 users" in output
    assert "[##############################] 3/3 users" in output
    assert "Applicants: 3 created, 0 unchanged." in output
    assert "Verifications: 3 created (0 of them cancelled as superseded), 0 updated, 0 unchanged, 0 skipped." in output
    assert Verification.objects.filter(backend="onfido").count() == 3


@pytest.mark.usefixtures("onfido_tables")
def test_a_second_run_reports_that_it_changed_nothing() -> None:
    three_users_on_django_onfido()
    run()

    output = run()

    assert "Applicants: 0 created, 3 unchanged." in output
    assert "3 unchanged, 0 skipped." in output
    assert "Nothing to import: every django-onfido row is already in django-kyc." in output


@pytest.mark.usefixtures("onfido_tables")
def test_dry_run_writes_nothing() -> None:
    three_users_on_django_onfido()

    output = run("--dry-run")

    assert output.splitlines()[-4] == "Dry run, nothing written. 3 user(s) with a django-onfido applicant."
    assert "Applicants: 3 created" in output
    assert not Applicant.objects.exists()
    assert not Verification.objects.exists()


@pytest.mark.usefixtures("onfido_tables")
def test_backend_names_the_alias_of_the_imported_verifications() -> None:
    three_users_on_django_onfido()

    run("--backend", "onfido_sdk")

    assert set(Verification.objects.values_list("backend", flat=True)) == {"onfido_sdk"}


@pytest.mark.usefixtures("onfido_tables")
def test_an_alias_that_is_not_configured_stops_it_before_anything_is_written() -> None:
    three_users_on_django_onfido()

    with pytest.raises(CommandError, match="no backend with alias 'onfido_eu'"):
        run("--backend", "onfido_eu")
    assert not Applicant.objects.exists()


@pytest.mark.usefixtures("onfido_tables")
def test_an_alias_of_another_provider_is_refused() -> None:
    three_users_on_django_onfido()

    with pytest.raises(CommandError, match=r'\["sandbox"\] is SandboxBackend, not the Onfido backend'):
        run("--backend", "sandbox")
    assert not Applicant.objects.exists()


@pytest.mark.usefixtures("onfido_tables")
def test_an_alias_in_workflow_mode_is_refused_since_it_cannot_follow_checks() -> None:
    three_users_on_django_onfido()

    with pytest.raises(CommandError, match=r'\["onfido_studio"\]\["OPTIONS"\]\["MODE"\] is "workflow"'):
        run("--backend", "onfido_studio")
    assert not Applicant.objects.exists()


@pytest.mark.usefixtures("onfido_tables")
def test_neither_the_output_nor_the_logs_name_anybody() -> None:
    three_users_on_django_onfido()

    with capture_logs("") as logs:
        output = run() + run("--dry-run")

    for personal in ("hana", "ivan", "judit", "Jane", "Doe"):
        assert personal not in output
        assert personal not in logs.text()
