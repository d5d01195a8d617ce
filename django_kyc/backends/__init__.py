"""Provider backends. Select one per alias in ``DJANGO_KYC["BACKENDS"]``; get it with :func:`get_backend`."""

from __future__ import annotations

from django_kyc.backends.registry import get_backend

__all__ = ["get_backend"]
