"""Identity verification (KYC) and AML screening for Django, with pluggable provider backends."""

from __future__ import annotations

__version__ = "0.1.0"
