"""Backends by alias: construction, caching, cache clearing on settings changes, and errors naming the key."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from django.test import override_settings

from django_kyc.backends import get_backend, registry
from django_kyc.backends.base import KycBackend
from django_kyc.backends.sandbox import SandboxBackend
from django_kyc.exceptions import KycConfigurationError, UnsupportedFeature
from tests.support.kyc_settings import kyc_settings_with


class TokenBackend(KycBackend):
    provider = "token"
    required_options: ClassVar[tuple[str, ...]] = ("API_TOKEN", "FORM_ID")


NOT_A_BACKEND = object()


def with_backends(backends: dict[str, Any], default: str = "sandbox") -> Any:
    return override_settings(DJANGO_KYC=kyc_settings_with(BACKENDS=backends, DEFAULT_BACKEND=default))


def test_get_backend_builds_the_configured_class() -> None:
    backend = get_backend("hosted")
    assert isinstance(backend, SandboxBackend)
    assert backend.alias == "hosted"
    assert backend.options["HOSTED_FLOW"] is True


def test_default_alias() -> None:
    assert get_backend().alias == "sandbox"
    assert get_backend(None) is get_backend("sandbox")


def test_instances_are_cached() -> None:
    assert get_backend("sandbox") is get_backend("sandbox")
    assert get_backend("sandbox") is not get_backend("hosted")


def test_override_settings_clears_the_cache() -> None:
    before = get_backend("sandbox")
    backends = {"sandbox": {"CLASS": "django_kyc.backends.sandbox.SandboxBackend", "OPTIONS": {"DECISION_DELAY": 7}}}
    with with_backends(backends):
        inside = get_backend("sandbox")
        assert inside is not before
        assert inside.options == {"DECISION_DELAY": 7}
    after = get_backend("sandbox")
    assert after is not inside
    assert after.options["DECISION_DELAY"] == 0


def test_unrelated_setting_change_keeps_the_cache() -> None:
    before = get_backend("sandbox")
    with override_settings(USE_I18N=False):
        assert get_backend("sandbox") is before


def test_unknown_alias_names_the_key() -> None:
    with pytest.raises(KycConfigurationError) as caught:
        get_backend("kycaid")
    assert str(caught.value) == """DJANGO_KYC["BACKENDS"] has no backend with alias 'kycaid'."""


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, 'DJANGO_KYC["BACKENDS"]["broken"]["CLASS"] must be a dotted path.'),
        ({"CLASS": ""}, 'DJANGO_KYC["BACKENDS"]["broken"]["CLASS"] must be a dotted path.'),
        ({"CLASS": 42}, 'DJANGO_KYC["BACKENDS"]["broken"]["CLASS"] must be a dotted path.'),
        (
            {"CLASS": "django_kyc.backends.nosuch.Backend"},
            """DJANGO_KYC["BACKENDS"]["broken"]["CLASS"] = 'django_kyc.backends.nosuch.Backend' cannot be imported""",
        ),
        (
            {"CLASS": f"{__name__}.NOT_A_BACKEND"},
            f"""DJANGO_KYC["BACKENDS"]["broken"]["CLASS"] = '{__name__}.NOT_A_BACKEND' is not a KycBackend subclass.""",
        ),
        (
            {"CLASS": "django_kyc.models.Applicant"},
            """DJANGO_KYC["BACKENDS"]["broken"]["CLASS"] = 'django_kyc.models.Applicant' is not a KycBackend""",
        ),
    ],
)
def test_bad_class_names_the_key(config: dict[str, Any], message: str) -> None:
    with with_backends({"broken": config}, default="broken"), pytest.raises(KycConfigurationError) as caught:
        get_backend("broken")
    assert str(caught.value).startswith(message)


def test_missing_required_option_names_the_key() -> None:
    backends = {"token": {"CLASS": f"{__name__}.TokenBackend", "OPTIONS": {"API_TOKEN": "t"}}}
    with with_backends(backends, default="token"), pytest.raises(KycConfigurationError) as caught:
        get_backend("token")
    assert str(caught.value) == 'DJANGO_KYC["BACKENDS"]["token"]["OPTIONS"]["FORM_ID"] is required by TokenBackend.'


def test_empty_required_option_counts_as_missing() -> None:
    backends = {"token": {"CLASS": f"{__name__}.TokenBackend", "OPTIONS": {"API_TOKEN": "", "FORM_ID": "f"}}}
    with with_backends(backends, default="token"), pytest.raises(KycConfigurationError, match=r'\["API_TOKEN"\]'):
        get_backend("token")


def test_complete_options_build() -> None:
    backends = {"token": {"CLASS": f"{__name__}.TokenBackend", "OPTIONS": {"API_TOKEN": "t", "FORM_ID": "f"}}}
    with with_backends(backends, default="token"):
        backend = get_backend("token")
    assert isinstance(backend, TokenBackend)
    assert TokenBackend.missing_options(backend.options) == []


def test_is_configured() -> None:
    assert registry.is_configured("sandbox")
    assert not registry.is_configured("kycaid")
    with override_settings(DJANGO_KYC=kyc_settings_with(BACKENDS="not a dict")):
        assert not registry.is_configured("sandbox")


def test_missing_capability_names_the_provider() -> None:
    backends = {"token": {"CLASS": f"{__name__}.TokenBackend", "OPTIONS": {"API_TOKEN": "t", "FORM_ID": "f"}}}
    with with_backends(backends, default="token"):
        backend = get_backend("token")
    with pytest.raises(UnsupportedFeature) as caught:
        backend.screen(None)  # type: ignore[arg-type]
    assert str(caught.value) == "The 'token' backend does not support AML screening."
    assert not backend.supports("aml")


def test_options_that_are_not_a_dict_name_the_key() -> None:
    backends = {"token": {"CLASS": f"{__name__}.TokenBackend", "OPTIONS": ["API_TOKEN", "FORM_ID"]}}
    with with_backends(backends, default="token"), pytest.raises(KycConfigurationError) as caught:
        get_backend("token")
    assert str(caught.value) == 'DJANGO_KYC["BACKENDS"]["token"]["OPTIONS"] must be a dict.'
