"""Fake provider servers that speak each provider's real API on loopback.

One module per provider (``django_kyc.testing.<provider>``) defines ``SERVER``, a
:class:`~django_kyc.testing.server.FakeProviderServer` subclass. They are real HTTP servers: they check the
provider's credentials and request shapes, answer in the provider's error format, keep state across calls,
can be told to fail, and send correctly signed webhooks. Use them in your own tests, or run one for a demo::

    python -m django_kyc.testing kycaid --port 8101 --auto-decide approved --delay 3
"""

from __future__ import annotations

from django_kyc.testing.server import FakeProviderServer, FakeRequest, FakeResponse, Fault, load_server

__all__ = ["FakeProviderServer", "FakeRequest", "FakeResponse", "Fault", "load_server"]
