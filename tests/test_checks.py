"""System checks: each misconfiguration is reported with its own id, naming the exact key."""

from __future__ import annotations

import io
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

import pytest
from django.conf import settings
from django.core.cache.backends.locmem import LocMemCache
from django.core.checks import Error, Tags, Warning, run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from django_kyc.backends.base import KycBackend
from django_kyc.checks import check_backends, check_q_cluster
from tests.support.kyc_settings import kyc_settings_with

SANDBOX = {"CLASS": "django_kyc.backends.sandbox.SandboxBackend", "OPTIONS": {}}


class TokenBackend(KycBackend):
    provider = "token"
    required_options: ClassVar[tuple[str, ...]] = ("API_TOKEN", "FORM_ID")


def backend_messages(debug: bool = True, **changes: Any) -> list[Any]:
    with override_settings(DEBUG=debug, DJANGO_KYC=kyc_settings_with(**changes)):
        return check_backends()


def q_messages(q_cluster: Any, **kyc: Any) -> list[Any]:
    with override_settings(Q_CLUSTER=q_cluster, DJANGO_KYC=kyc_settings_with(**kyc)):
        return check_q_cluster()


def ids(messages: list[Any]) -> list[str]:
    return [message.id for message in messages]


# --- backends ---------------------------------------------------------------------------------------------


def test_the_suite_settings_pass() -> None:
    assert backend_messages() == []
    assert check_q_cluster() == []


def test_sandbox_in_production_is_an_error_per_alias() -> None:
    messages = backend_messages(debug=False)
    assert ids(messages) == ["django_kyc.E007", "django_kyc.E007"]
    assert all(isinstance(message, Error) for message in messages)
    assert 'DJANGO_KYC["BACKENDS"]["sandbox"]' in messages[0].msg
    assert 'DJANGO_KYC["BACKENDS"]["hosted"]' in messages[1].msg


@pytest.mark.parametrize("backends", [{}, [], "sandbox", None])
def test_backends_must_be_a_non_empty_dict(backends: Any) -> None:
    messages = backend_messages(BACKENDS=backends)
    assert ids(messages) == ["django_kyc.E001"]
    assert 'DJANGO_KYC["BACKENDS"]' in messages[0].msg


def test_default_backend_must_be_configured() -> None:
    messages = backend_messages(DEFAULT_BACKEND="kycaid")
    assert ids(messages) == ["django_kyc.E002"]
    assert isinstance(messages[0], Error)
    assert messages[0].msg == ("""DJANGO_KYC["DEFAULT_BACKEND"] = 'kycaid' is not a key of DJANGO_KYC["BACKENDS"].""")
    assert messages[0].hint == "Configured aliases: 'sandbox', 'hosted'."


def test_backend_config_must_be_a_dict() -> None:
    messages = backend_messages(BACKENDS={"sandbox": SANDBOX, "other": "django_kyc.backends.sandbox.SandboxBackend"})
    assert ids(messages) == ["django_kyc.E003"]
    assert messages[0].msg == 'DJANGO_KYC["BACKENDS"]["other"] must be a dict.'


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ({"CLASS": "django_kyc.backends.no_such_provider.Backend"}, "cannot be imported"),
        ({"CLASS": "django_kyc.models.Applicant"}, "is not a KycBackend subclass"),
        ({"OPTIONS": {}}, "must be a dotted path"),
    ],
)
def test_bad_class_names_the_key(config: dict[str, Any], fragment: str) -> None:
    messages = backend_messages(BACKENDS={"sandbox": SANDBOX, "kycaid": config})
    assert ids(messages) == ["django_kyc.E004"]
    assert messages[0].msg.startswith('DJANGO_KYC["BACKENDS"]["kycaid"]["CLASS"]')
    assert fragment in messages[0].msg


def test_missing_required_options_are_each_named() -> None:
    config = {"CLASS": f"{__name__}.TokenBackend", "OPTIONS": {"FORM_ID": ""}}
    messages = backend_messages(BACKENDS={"sandbox": SANDBOX, "kycaid": config})
    assert ids(messages) == ["django_kyc.E005", "django_kyc.E005"]
    assert [message.msg for message in messages] == [
        'DJANGO_KYC["BACKENDS"]["kycaid"]["OPTIONS"]["API_TOKEN"] is required by TokenBackend.',
        'DJANGO_KYC["BACKENDS"]["kycaid"]["OPTIONS"]["FORM_ID"] is required by TokenBackend.',
    ]


def test_missing_options_block_is_reported_like_missing_keys() -> None:
    messages = backend_messages(BACKENDS={"sandbox": SANDBOX, "kycaid": {"CLASS": f"{__name__}.TokenBackend"}})
    assert ids(messages) == ["django_kyc.E005", "django_kyc.E005"]


def test_options_must_be_a_dict() -> None:
    """A list of option names instead of a dict is reported, not a crash of ``manage.py check``."""
    config = {"CLASS": f"{__name__}.TokenBackend", "OPTIONS": ["API_TOKEN", "FORM_ID"]}
    messages = backend_messages(BACKENDS={"sandbox": SANDBOX, "kycaid": config})
    assert ids(messages) == ["django_kyc.E006"]
    assert messages[0].msg == 'DJANGO_KYC["BACKENDS"]["kycaid"]["OPTIONS"] must be a dict.'


def test_complete_configuration_passes() -> None:
    config = {"CLASS": f"{__name__}.TokenBackend", "OPTIONS": {"API_TOKEN": "t", "FORM_ID": "f"}}
    assert backend_messages(BACKENDS={"sandbox": SANDBOX, "kycaid": config}) == []


def test_manage_py_check_reports_the_key() -> None:
    """The checks are registered: ``manage.py check`` fails on a bad configuration and names the key."""
    with (
        override_settings(DJANGO_KYC=kyc_settings_with(DEFAULT_BACKEND="kycaid")),
        pytest.raises(SystemCheckError, match=r"""DJANGO_KYC\["DEFAULT_BACKEND"\] = 'kycaid'"""),
    ):
        call_command("check", stdout=io.StringIO(), stderr=io.StringIO())
    call_command("check", stdout=io.StringIO(), stderr=io.StringIO())


# --- Q_CLUSTER ----------------------------------------------------------------------------------------------


def test_missing_q_cluster_is_a_warning() -> None:
    with override_settings():
        del settings.Q_CLUSTER
        messages = check_q_cluster()
    assert ids(messages) == ["django_kyc.W002"]


def test_missing_timeout_is_an_error() -> None:
    messages = q_messages({"name": "x", "retry": 90})
    assert ids(messages) == ["django_kyc.E010"]
    assert 'Q_CLUSTER["timeout"]' in messages[0].msg


@pytest.mark.parametrize(
    ("q_cluster", "retry"),
    [({"timeout": 60, "retry": 60}, 60), ({"timeout": 90, "retry": 30}, 30), ({"timeout": 90}, 60)],
)
def test_retry_must_exceed_timeout(q_cluster: dict[str, Any], retry: int) -> None:
    messages = q_messages(q_cluster)
    assert ids(messages) == ["django_kyc.E011"]
    assert messages[0].msg.startswith(f'Q_CLUSTER["retry"] ({retry}) must be greater than Q_CLUSTER["timeout"]')


def test_provider_timeouts_must_fit_in_the_task_timeout() -> None:
    messages = q_messages({"timeout": 30, "retry": 60}, HTTP_CONNECT_TIMEOUT=5, HTTP_READ_TIMEOUT=25)
    assert ids(messages) == ["django_kyc.W003"]
    assert 'DJANGO_KYC["HTTP_CONNECT_TIMEOUT"]' in messages[0].msg
    assert q_messages({"timeout": 31, "retry": 60}, HTTP_CONNECT_TIMEOUT=5, HTTP_READ_TIMEOUT=25) == []


class SlowProviderBackend(KycBackend):
    provider = "slow"
    default_timeout = (10.0, 60.0)


@pytest.mark.parametrize(("options", "warned"), [({}, True), ({"READ_TIMEOUT": 20}, False)])
def test_a_backends_own_timeouts_must_fit_in_the_task_timeout(options: dict[str, Any], warned: bool) -> None:
    backends = {
        **settings.DJANGO_KYC["BACKENDS"],
        "slow": {"CLASS": f"{__name__}.SlowProviderBackend", "OPTIONS": options},
    }
    with override_settings(DJANGO_KYC=kyc_settings_with(BACKENDS=backends)):
        messages = check_q_cluster()
    assert [m.id for m in messages] == (["django_kyc.W004"] if warned else [])
    if warned:
        assert 'DJANGO_KYC["BACKENDS"]["slow"]' in messages[0].msg


# --- document storage -------------------------------------------------------------------------------------


def storage_messages(**changes: Any) -> list[Any]:
    """What ``manage.py check`` reports about the document storage (the ``files`` tag, django_kyc's only)."""
    with override_settings(DJANGO_KYC=kyc_settings_with(**changes)):
        return [message for message in run_checks(tags=["files"]) if message.id.startswith("django_kyc.")]


def test_the_suite_storage_location_passes() -> None:
    assert storage_messages() == []


def test_a_missing_location_that_can_be_created_passes_and_is_not_created(tmp_path: Path) -> None:
    location = tmp_path / "private" / "kyc-documents"
    assert storage_messages(DOCUMENT_STORAGE_LOCATION=str(location)) == []
    assert not (tmp_path / "private").exists()


@pytest.mark.parametrize(
    ("layout", "problem"),
    [
        ("location-is-a-file", "is not a directory"),
        ("parent-is-a-file", "cannot be created: {tmp}/blocker is not a directory"),
        ("not-writable", "cannot be written"),
    ],
)
def test_a_location_that_cannot_be_created_or_written_is_an_error(tmp_path: Path, layout: str, problem: str) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_bytes(b"")
    location = {
        "location-is-a-file": blocker,
        "parent-is-a-file": blocker / "kyc-documents",
        "not-writable": Path("/proc/self"),  # a directory no process may create files in, root included
    }[layout]
    [message] = storage_messages(DOCUMENT_STORAGE_LOCATION=str(location))
    assert isinstance(message, Error)
    assert message.id == "django_kyc.E050"
    assert message.msg.startswith(f'DJANGO_KYC["DOCUMENT_STORAGE_LOCATION"] ({location}) ')
    assert problem.format(tmp=tmp_path) in message.msg
    assert "uploads would fail" in message.msg
    assert 'DJANGO_KYC["DOCUMENT_STORAGE_LOCATION"]' in message.hint
    assert "0700" in message.hint


def test_a_storage_the_site_supplies_is_not_checked_here(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_bytes(b"")
    messages = storage_messages(
        DOCUMENT_STORAGE="django.core.files.storage.InMemoryStorage", DOCUMENT_STORAGE_LOCATION=str(blocker)
    )
    assert messages == []


# --- installed apps -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("app", ["rest_framework", "django_q"])
def test_a_missing_required_app_stops_manage_py_check_and_is_named(app: str) -> None:
    """Both packages are dependencies, so nothing fails at import: only the check can say the app is missing."""
    installed = [name for name in settings.INSTALLED_APPS if name != app]
    with override_settings(INSTALLED_APPS=installed):
        messages = [message for message in run_checks() if message.id == "django_kyc.E030"]
        with pytest.raises(SystemCheckError, match=f'"{app}" is not in INSTALLED_APPS'):
            call_command("check", stdout=io.StringIO(), stderr=io.StringIO())
    assert len(messages) == 1
    assert isinstance(messages[0], Error)
    assert messages[0].hint.startswith(f'Add "{app}" to INSTALLED_APPS')
    assert not [message for message in run_checks() if message.id == "django_kyc.E030"]


# --- hints are self-contained ----------------------------------------------------------------------------


def encryption_messages(debug: bool, **changes: Any) -> dict[str, Any]:
    with override_settings(DEBUG=debug, DJANGO_KYC=kyc_settings_with(**changes)):
        messages = run_checks(tags=[Tags.security])
    return {message.id: message for message in messages if message.id.startswith("django_kyc")}


def run_hint_command(hint: str) -> str:
    """Run the one-line command a hint quotes (with this interpreter) and return what it printed."""
    command = shlex.split(re.search(r"`(python -c .+?)`", hint).group(1))  # type: ignore[union-attr]
    return subprocess.run([sys.executable, *command[1:]], capture_output=True, text=True, check=True).stdout.strip()


@pytest.mark.parametrize("debug", [True, False])
def test_missing_key_hints_say_what_to_set_and_how_to_generate_it(debug: bool) -> None:
    """W020/W021 pointed at docs/encryption.md, which the wheel does not ship. Each hint now names the setting
    and quotes a command whose output, once set, silences the check."""
    messages = encryption_messages(debug, ENCRYPTION_KEYS=[], BLIND_INDEX_KEY="")
    keys, bidx = ("W020", "W021") if debug else ("E020", "E021")
    keys_hint, bidx_hint = messages[f"django_kyc.{keys}"].hint, messages[f"django_kyc.{bidx}"].hint
    assert 'DJANGO_KYC["ENCRYPTION_KEYS"]' in keys_hint
    assert 'DJANGO_KYC["BLIND_INDEX_KEY"]' in bidx_hint
    generated = {"ENCRYPTION_KEYS": [run_hint_command(keys_hint)], "BLIND_INDEX_KEY": run_hint_command(bidx_hint)}
    assert encryption_messages(debug, **generated) == {}


@pytest.mark.parametrize(
    "changes",
    [
        {"ENCRYPTION_KEYS": [], "BLIND_INDEX_KEY": ""},
        {"ENCRYPTION_KEYS": ["not-a-key"], "BLIND_INDEX_KEY": "too-short"},
        {"BLIND_INDEX_KEY": settings.DJANGO_KYC["ENCRYPTION_KEYS"][0]},
    ],
)
@pytest.mark.parametrize("debug", [True, False])
def test_no_check_points_at_a_document_outside_the_wheel(changes: dict[str, Any], debug: bool) -> None:
    with override_settings(DEBUG=debug, DJANGO_KYC=kyc_settings_with(**changes)):
        messages = [message for message in run_checks() if message.id.startswith("django_kyc")]
    assert messages
    for message in messages:
        text = f"{message.msg} {message.hint or ''}"
        assert "docs/" not in text
        assert ".md" not in text
        assert message.hint or "`python -c" in message.msg, f"{message.id} says what is wrong but not what to do"


# --- the throttles' cache ---------------------------------------------------------------------------------

LOCMEM = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
DATABASE_CACHE = {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "kyc_cache"}


class SiteLocMemCache(LocMemCache):
    """A site's own subclass is still per process."""


def throttle_messages(caches: dict[str, Any], **kyc: Any) -> list[Any]:
    with override_settings(CACHES=caches, DJANGO_KYC=kyc_settings_with(**kyc)):
        return [message for message in run_checks(tags=[Tags.caches]) if message.id.startswith("django_kyc")]


@pytest.mark.parametrize(
    ("backend", "fragment"),
    [
        ("django.core.cache.backends.locmem.LocMemCache", "N workers allow N times the rate"),
        (f"{__name__}.SiteLocMemCache", "N workers allow N times the rate"),
        ("django.core.cache.backends.dummy.DummyCache", "never refuse a request"),
    ],
)
def test_throttles_on_a_process_local_cache_are_a_warning(backend: str, fragment: str) -> None:
    """Django's default cache is LocMemCache: with two web workers, 60/hour let a user write 120 times."""
    messages = throttle_messages({"default": {"BACKEND": backend}}, API_THROTTLE_RATES={"kyc_write": "60/hour"})
    assert ids(messages) == ["django_kyc.W040"]
    assert isinstance(messages[0], Warning)
    assert 'CACHES["default"]' in messages[0].msg
    assert "kyc_write=60/hour, kyc_upload=30/hour" in messages[0].msg
    assert fragment in messages[0].msg
    assert "DatabaseCache" in messages[0].hint
    assert "createcachetable" in messages[0].hint


@pytest.mark.parametrize(
    "backend",
    [
        "django.core.cache.backends.db.DatabaseCache",
        "django.core.cache.backends.redis.RedisCache",
        "django.core.cache.backends.filebased.FileBasedCache",
    ],
)
def test_throttles_on_a_shared_cache_pass(backend: str, tmp_path: Path) -> None:
    assert throttle_messages({"default": {"BACKEND": backend, "LOCATION": str(tmp_path)}}) == []


def test_no_warning_when_every_throttle_is_off() -> None:
    rates = {"kyc_write": None, "kyc_upload": None}
    assert throttle_messages({"default": LOCMEM}, API_THROTTLE_RATES=rates) == []
    assert ids(throttle_messages({"default": LOCMEM}, API_THROTTLE_RATES={"kyc_write": None})) == ["django_kyc.W040"]


def test_the_throttle_cache_alias_is_the_one_checked() -> None:
    """A site may keep a per-process default cache and give the throttles a shared one, or the reverse."""
    assert throttle_messages({"default": LOCMEM, "shared": DATABASE_CACHE}, API_THROTTLE_CACHE="shared") == []
    messages = throttle_messages({"default": DATABASE_CACHE, "local": LOCMEM}, API_THROTTLE_CACHE="local")
    assert ids(messages) == ["django_kyc.W040"]
    assert 'CACHES["local"]' in messages[0].msg


def test_an_unknown_throttle_cache_alias_is_an_error() -> None:
    """Without the check the first write request would fail with InvalidCacheBackendError: a 500."""
    messages = throttle_messages({"default": LOCMEM, "other": DATABASE_CACHE}, API_THROTTLE_CACHE="throttle")
    assert ids(messages) == ["django_kyc.E041"]
    assert messages[0].msg.startswith("""DJANGO_KYC["API_THROTTLE_CACHE"] = 'throttle' is not a usable cache""")
    assert messages[0].hint == "Name a key of CACHES ('default', 'other')."


def test_outbound_endpoints_in_settings_are_checked() -> None:
    from django_kyc.checks import check_outbound_events
    from django_kyc.outbound import generate_secret

    good = {"URL": "https://svc.example/in", "EVENTS": ["applicant.verified"], "SECRET": generate_secret()}
    bad = {"URL": "http://svc.example/in", "EVENTS": ["applicant.nope"], "SECRET": "whsec_short"}
    with override_settings(
        DJANGO_KYC=kyc_settings_with(
            OUTBOUND_ENDPOINTS={"good": good, "bad": bad}, OUTBOUND_ALLOWED_NETWORKS=["10.0.0.0/33"]
        )
    ):
        messages = [(message.id, message.msg) for message in check_outbound_events()]
    assert [id_ for id_, _ in messages] == ["django_kyc.E080"] + ["django_kyc.E081"] * 3
    text = " ".join(msg for _, msg in messages)
    assert '["bad"]: URL: only https' in text
    assert "applicant.nope" in text
    assert "good" not in text


@pytest.mark.parametrize(
    ("changes", "ids"),
    [
        ({"SANCTIONS_LISTS": ["un_sc"]}, ["django_kyc.E090"]),
        ({"SANCTIONS_LISTS": {"atlantis": {}}}, ["django_kyc.E090"]),
        ({"SANCTIONS_LISTS": {"un_sc": "https://x"}}, ["django_kyc.E091"]),
        ({"SANCTIONS_LISTS": {"un_sc": {"other.xml": "https://x"}}}, ["django_kyc.E091"]),
        ({"SANCTIONS_LISTS": {"un_sc": {"consolidated.xml": "ftp://x/y"}}}, ["django_kyc.E092"]),
        ({"SANCTIONS_LISTS": {"un_sc": {"consolidated.xml": "http://mirror/y"}}}, ["django_kyc.W090"]),
        ({"SANCTIONS_MAX_SHRINK": 0}, ["django_kyc.E093"]),
        ({"SANCTIONS_LISTS": {"un_sc": {"consolidated.xml": "file:///srv/un.xml"}}}, []),
    ],
)
def test_sanctions_lists_settings(changes: dict[str, Any], ids: list[str]) -> None:
    from django_kyc.checks import check_sanctions_lists

    with override_settings(DJANGO_KYC=kyc_settings_with(**changes)):
        assert [message.id for message in check_sanctions_lists()] == ids
