"""System checks of the review policy: each bad key named with its own id (E060-E064, W060-W061)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from django_kyc.checks import check_review_policy
from tests.support.kyc_settings import kyc_settings_with


def ids(**changes: Any) -> list[str]:
    with override_settings(DJANGO_KYC=kyc_settings_with(**changes)):
        return [message.id or "" for message in check_review_policy()]


def test_the_defaults_pass() -> None:
    assert ids() == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"REVIEW_INTERVAL_MONTHS": 12}, ["django_kyc.E060"]),
        ({"REVIEW_INTERVAL_MONTHS": {"high": 12, "medium": 60}}, ["django_kyc.E060"]),
        ({"REVIEW_INTERVAL_MONTHS": {"high": 0, "medium": 60, "low": 60}}, ["django_kyc.E060"]),
        ({"REVIEW_INTERVAL_MONTHS": {"high": 12, "medium": 60, "low": 60, "vip": 1}}, ["django_kyc.E060"]),
        ({"REVIEW_INTERVAL_MONTHS": {"high": 12, "medium": 60, "low": 60, "prohibited": 1}}, ["django_kyc.E061"]),
        ({"REVIEW_INTERVAL_MONTHS_BY_COUNTRY": []}, ["django_kyc.E062"]),
        ({"REVIEW_INTERVAL_MONTHS_BY_COUNTRY": {"gb": {"high": 6}}}, ["django_kyc.E062"]),
        ({"REVIEW_INTERVAL_MONTHS_BY_COUNTRY": {"GB": {"high": "six"}}}, ["django_kyc.E060"]),
        ({"REVIEW_NOTICE_DAYS": -1}, ["django_kyc.E063"]),
        ({"DOCUMENT_EXPIRY_GRACE_DAYS": 1.5}, ["django_kyc.E063"]),
        ({"REVIEW_BATCH_SIZE": 0}, ["django_kyc.E064"]),
        ({"REVIEW_INTERVAL_MONTHS": {"high": 24, "medium": 60, "low": 60}}, ["django_kyc.W060"]),
        ({"REVIEW_INTERVAL_MONTHS_BY_COUNTRY": {"GB": {"low": 120}}}, ["django_kyc.W060"]),
        ({"REVIEW_NOTICE_DAYS": 400}, ["django_kyc.W061"]),
    ],
)
def test_each_mistake_has_its_id(changes: dict[str, Any], expected: list[str]) -> None:
    assert ids(**changes) == expected


def test_a_partial_country_override_is_fine() -> None:
    assert ids(REVIEW_INTERVAL_MONTHS_BY_COUNTRY={"DE": {"high": 6}}) == []
