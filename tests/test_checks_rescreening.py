"""System checks of the re-screening settings (E070-E075, W070): each names the exact key."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.checks import Error, Warning
from django.test import override_settings

from django_kyc.checks import check_rescreening
from tests.support.kyc_settings import kyc_settings_with, suite_backends


def messages(**changes: Any) -> list[Any]:
    with override_settings(DJANGO_KYC=kyc_settings_with(**changes)):
        return check_rescreening()


def test_the_defaults_pass() -> None:
    assert messages() == []
    assert (
        messages(RESCREENING_INTERVAL_DAYS={"high": 14, "prohibited": 7, "low": None}, RESCREENING_BACKEND="sandbox")
        == []
    )


@pytest.mark.parametrize(
    ("changes", "code", "named"),
    [
        ({"RESCREENING_INTERVAL_DAYS": [30, 180]}, "django_kyc.E070", 'DJANGO_KYC["RESCREENING_INTERVAL_DAYS"]'),
        ({"RESCREENING_INTERVAL_DAYS": {"hihg": 30}}, "django_kyc.E071", "'hihg'"),
        ({"RESCREENING_INTERVAL_DAYS": {"high": 0}}, "django_kyc.E072", '["high"]'),
        ({"RESCREENING_INTERVAL_DAYS": {"medium": "180"}}, "django_kyc.E072", '["medium"]'),
        ({"RESCREENING_INTERVAL_DAYS": {"low": True}}, "django_kyc.E072", '["low"]'),
        ({"RESCREENING_BATCH_SIZE": 0}, "django_kyc.E073", 'DJANGO_KYC["RESCREENING_BATCH_SIZE"]'),
        ({"RESCREENING_BACKEND": "nowhere"}, "django_kyc.E074", "'nowhere'"),
    ],
)
def test_bad_settings_are_errors_naming_the_key(changes: dict[str, Any], code: str, named: str) -> None:
    found = messages(**changes)
    assert [message.id for message in found] == [code]
    assert isinstance(found[0], Error)
    assert named in found[0].msg


def test_a_backend_that_cannot_screen_people_is_an_error() -> None:
    backends = suite_backends(kycaid={"CLASS": "django_kyc.backends.kycaid.KycaidBackend", "OPTIONS": {}})
    found = messages(BACKENDS=backends, RESCREENING_BACKEND="kycaid")
    assert [message.id for message in found] == ["django_kyc.E075"]


def test_a_riskier_level_screened_less_often_is_a_warning() -> None:
    found = messages(RESCREENING_INTERVAL_DAYS={"high": 400})
    assert [message.id for message in found] == ["django_kyc.W070"]
    assert isinstance(found[0], Warning)
    assert "high-risk applicants less often (400 days) than medium-risk ones (180 days)" in found[0].msg
