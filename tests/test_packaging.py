"""The built wheel carries everything a site needs (compiled translations too), and installs into an empty
virtualenv and works."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.packaging


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    return next(out.glob("django_kyc-*.whl"))


def test_wheel_contains_migrations_templates_and_typing_marker(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "django_kyc/py.typed" in names
    assert "django_kyc/migrations/0001_initial.py" in names
    assert "django_kyc/templates/django_kyc/admin/decision.html" in names
    assert "django_kyc/templates/django_kyc/api/docs.html" in names
    # the compiled translations: a site gets German and Spanish without GNU gettext
    for language in ("de", "es"):
        assert f"django_kyc/locale/{language}/LC_MESSAGES/django.mo" in names
    assert not any(name.startswith(("tests/", "example_project/")) for name in names)


def test_wheel_installs_into_an_empty_virtualenv_and_migrates(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], check=True, timeout=600)
    site = tmp_path / "site"
    site.mkdir()
    (site / "settings.py").write_text(
        textwrap.dedent(
            """
            SECRET_KEY = "packaging-check"
            DEBUG = True
            USE_TZ = True
            ROOT_URLCONF = "urls"
            INSTALLED_APPS = [
                "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
                "django.contrib.sessions", "django.contrib.messages", "django.contrib.staticfiles",
                "rest_framework", "django_q", "django_kyc",
            ]
            MIDDLEWARE = [
                "django.contrib.sessions.middleware.SessionMiddleware",
                "django.contrib.auth.middleware.AuthenticationMiddleware",
                "django.contrib.messages.middleware.MessageMiddleware",
            ]
            TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
                          "OPTIONS": {"context_processors": ["django.template.context_processors.request",
                                                             "django.contrib.auth.context_processors.auth",
                                                             "django.contrib.messages.context_processors.messages"]}}]
            DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"}}
            STATIC_URL = "/static/"
            Q_CLUSTER = {"name": "pkg", "orm": "default", "timeout": 60, "retry": 90}
            DJANGO_KYC = {"DOCUMENT_STORAGE_LOCATION": "private"}
            """
        )
    )
    (site / "urls.py").write_text(
        "from django.contrib import admin\nfrom django.urls import include, path\n"
        'urlpatterns = [path("admin/", admin.site.urls), path("kyc/", include("django_kyc.urls"))]\n'
    )
    env = {"DJANGO_SETTINGS_MODULE": "settings", "PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"}
    run = lambda *args: subprocess.run(  # noqa: E731
        [str(python), "-m", "django", *args], cwd=site, env=env, check=True, capture_output=True, text=True
    )
    checked = run("check")
    report = checked.stdout + checked.stderr
    # a brand-new site: the warnings it gets must make sense without the repository's docs/
    assert "django_kyc.W020" in report
    assert "docs/" not in report
    assert "django_kyc.W040" in report  # no CACHES: Django's per-process LocMemCache holds the throttles
    assert "Applying django_kyc.0001_initial... OK" in run("migrate", "--noinput").stdout
    # no qcluster has run: the health command says so and fails, as a container health check needs
    health = subprocess.run(
        [str(python), "-m", "django", "kyc_health"], cwd=site, env=env, capture_output=True, text=True, check=False
    )
    assert health.returncode == 1
    assert "the sweeper has never run" in health.stdout
    schedules = run(
        "shell", "-v", "0", "-c", "from django_q.models import Schedule; print(list(Schedule.objects.values('name')))"
    )
    assert "django_kyc.sweep" in schedules.stdout
    schema = run(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.test import Client; print(Client().get('/kyc/api/schema/?format=json').status_code)",
    )
    assert schema.stdout.strip() == "200"
    labels = run(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.utils import translation; from django_kyc.status import VerificationStatus as V\n"
        "for language in ('de', 'es'):\n"
        "    with translation.override(language): print(V.APPROVED.label)",
    )
    assert labels.stdout.split() == ["Genehmigt", "Aprobado"]
