"""Shared pieces for the API tests: a fresh throttle cache and users with exactly the permissions named."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache

from tests.support.factories import create_user


@pytest.fixture(autouse=True)
def _clear_throttle_cache() -> Iterator[None]:
    """DRF keeps throttle history in the default cache; no test may inherit another's requests."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def make_user(db: Any) -> Callable[..., User]:
    """``make_user("name", "django_kyc.view_applicant", staff=True)``: a user with only those permissions."""

    def build(username: str, *perms: str, staff: bool = False) -> User:
        return create_user(username, *perms, staff=staff)

    return build
