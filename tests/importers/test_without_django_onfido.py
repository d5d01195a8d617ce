"""The import on a site where django-onfido is not (or no longer) installed."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import CommandError, call_command


def test_the_command_says_what_to_install(db: Any) -> None:
    with pytest.raises(CommandError, match=r"django-onfido \('onfido'\) must be in INSTALLED_APPS"):
        call_command("kyc_import_django_onfido")
