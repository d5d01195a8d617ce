"""Writes are rate-limited per user with ``DJANGO_KYC["API_THROTTLE_RATES"]``; reads never are.

The autouse fixture in ``conftest.py`` clears the cache that holds the throttle history around every test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from rest_framework.test import APIClient

from django_kyc.models import Applicant
from tests.support.files import make_png


@pytest.fixture(autouse=True)
def _tight_rates() -> Iterator[None]:
    rates = {"kyc_write": "2/minute", "kyc_upload": "1/minute"}
    with override_settings(DJANGO_KYC={**settings.DJANGO_KYC, "API_THROTTLE_RATES": rates}):
        yield


@pytest.fixture
def applicant(user: User, make_applicant: Callable[..., Applicant]) -> Applicant:
    return make_applicant(user=user, with_document=False)


def assert_throttled(response: object) -> None:
    assert response.status_code == 429  # type: ignore[attr-defined]
    assert response["Content-Type"] == "application/json"  # type: ignore[index]
    assert "throttled" in response.json()["detail"].lower()  # type: ignore[attr-defined]
    assert int(response["Retry-After"]) > 0  # type: ignore[index]


@pytest.mark.django_db
def test_writes_are_throttled_and_reads_are_not(
    user: User, applicant: Applicant, client_for: Callable[[User | None], APIClient]
) -> None:
    api = client_for(user)
    url = f"/kyc/api/applicants/{applicant.pk}/"
    assert api.patch(url, {"city": "York"}, format="json").status_code == 200
    assert api.patch(url, {"city": "Hull"}, format="json").status_code == 200
    refused = api.patch(url, {"city": "Leeds"}, format="json")
    assert_throttled(refused)
    applicant.refresh_from_db()
    assert applicant.city == "Hull"
    # the limit covers every write in the scope, not just one URL
    assert_throttled(api.post(f"/kyc/api/applicants/{applicant.pk}/verifications/", {}, format="json"))
    assert not applicant.verifications.exists()

    for read in (url, "/kyc/api/applicants/", "/kyc/api/applicants/me/") * 5:
        assert api.get(read).status_code == 200


@pytest.mark.django_db
def test_the_limit_is_per_user(
    user: User,
    other_user: User,
    make_applicant: Callable[..., Applicant],
    client_for: Callable[[User | None], APIClient],
) -> None:
    api = client_for(user)
    for _ in range(2):
        api.post("/kyc/api/applicants/", {"last_name": "Doe"}, format="json")
    assert_throttled(api.post("/kyc/api/applicants/", {"last_name": "Doe"}, format="json"))
    assert client_for(other_user).post("/kyc/api/applicants/", {"last_name": "Roe"}, format="json").status_code == 201


@pytest.mark.django_db
def test_uploads_have_their_own_scope(
    user: User, applicant: Applicant, client_for: Callable[[User | None], APIClient]
) -> None:
    api = client_for(user)
    url = f"/kyc/api/applicants/{applicant.pk}/documents/"

    def upload() -> object:
        file = SimpleUploadedFile("a.png", make_png(), content_type="image/png")
        return api.post(url, {"type": "passport", "file": file}, format="multipart")

    assert upload().status_code == 201  # type: ignore[attr-defined]
    assert_throttled(upload())
    assert applicant.documents.count() == 1
    # the write scope is untouched by uploads
    assert api.patch(f"/kyc/api/applicants/{applicant.pk}/", {"city": "York"}, format="json").status_code == 200
    assert api.get(url).status_code == 200


@pytest.mark.django_db
def test_a_scope_left_out_of_the_setting_keeps_its_default_rate(
    user: User, applicant: Applicant, client_for: Callable[[User | None], APIClient]
) -> None:
    """Setting only ``kyc_write`` must not leave uploads unthrottled (the default is 30/hour)."""
    from django_kyc.api.policies import WriteThrottle

    with override_settings(DJANGO_KYC={**settings.DJANGO_KYC, "API_THROTTLE_RATES": {"kyc_write": "5/minute"}}):
        throttle = WriteThrottle()
        throttle.scope = "kyc_upload"
        assert throttle.get_rate() == "30/hour"
        throttle.scope = "kyc_write"
        assert throttle.get_rate() == "5/minute"
    with override_settings(DJANGO_KYC={**settings.DJANGO_KYC, "API_THROTTLE_RATES": {"kyc_upload": None}}):
        throttle.scope = "kyc_upload"
        assert throttle.get_rate() is None  # switched off on purpose
        api = client_for(user)
        for _ in range(3):
            file = SimpleUploadedFile("a.png", make_png(), content_type="image/png")
            response = api.post(f"/kyc/api/applicants/{applicant.pk}/documents/", {"type": "passport", "file": file})
            assert response.status_code == 201


@pytest.mark.django_db
def test_the_history_lives_in_the_cache_named_by_the_setting(
    user: User, applicant: Applicant, client_for: Callable[[User | None], APIClient]
) -> None:
    """``API_THROTTLE_CACHE`` lets the throttles use a shared cache while the site's default stays local."""
    from django.core.cache import caches

    from django_kyc.api.policies import WriteThrottle

    two_caches = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "default"},
        "throttle": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "throttle"},
    }
    key = WriteThrottle.cache_format % {"scope": "kyc_write", "ident": user.pk}
    kyc = {**settings.DJANGO_KYC, "API_THROTTLE_RATES": {"kyc_write": "2/minute"}, "API_THROTTLE_CACHE": "throttle"}
    with override_settings(CACHES=two_caches, DJANGO_KYC=kyc):
        api = client_for(user)
        url = f"/kyc/api/applicants/{applicant.pk}/"
        assert [api.patch(url, {"city": "York"}, format="json").status_code for _ in range(2)] == [200, 200]
        assert_throttled(api.patch(url, {"city": "Hull"}, format="json"))
        assert len(caches["throttle"].get(key)) == 2
        assert caches["default"].get(key) is None
        caches["throttle"].clear()  # a fresh history in the throttles' cache lets the user write again
        assert api.patch(url, {"city": "Hull"}, format="json").status_code == 200
