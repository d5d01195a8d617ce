"""Shared pieces for the admin tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User

from tests.support.factories import create_user


@pytest.fixture
def make_user(db: Any) -> Callable[..., User]:
    """``make_user("name", "django_kyc.view_document", staff=True)``: a user with only those permissions."""

    def build(username: str, *perms: str, staff: bool = False) -> User:
        return create_user(username, *perms, staff=staff)

    return build
