"""The idempotency key of one verification's create call, for providers that replay a key's first answer.

Stripe and Persona store the first answer to a request under its ``Idempotency-Key`` for a while: repeating a
create whose answer was lost, under the same key, gets that answer again instead of a second object. The key
is derived from our verification id and a generation, and committed (``provider_data[data_key]``) before it is
first used, so a crash mid-call keeps it. A key is dropped (``key`` empty) when a repeat could only replay an
answer we do not want; the backend then looks the object up by our reference before it starts the next
generation, as it does once the provider may have forgotten the key (the backend's ``IDEMPOTENCY_KEY_TTL``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from django_kyc.backends.parsing import iso_datetime, mapping, text

if TYPE_CHECKING:
    from django_kyc.backends.base import KycBackend
    from django_kyc.models import Verification


class IdempotencyKeys:
    """The key ledger of ``verification``'s create call at ``backend``: ``{"key", "generation",
    "first_used_at", …}`` in ``provider_data[data_key]``; keys read ``f"{prefix}{verification.pk}-{generation}"``."""

    def __init__(self, backend: KycBackend, verification: Verification, *, data_key: str, prefix: str) -> None:
        self.backend = backend
        self.verification = verification
        self.data_key = data_key
        self.prefix = prefix

    def held(self) -> dict[str, Any]:
        return dict(mapping(self.verification.provider_data.get(self.data_key)))

    def still_valid(self, held: Mapping[str, Any]) -> bool:
        """Whether a repeat under the held key still reaches the first answer: the key exists and was first
        used less than ``IDEMPOTENCY_KEY_TTL`` ago."""
        first_used = iso_datetime(held.get("first_used_at"))
        if not text(held.get("key")) or first_used is None:
            return False
        return timezone.now() - first_used < timedelta(seconds=int(self.backend.option("IDEMPOTENCY_KEY_TTL")))

    def new(self, held: Mapping[str, Any], **kept: Any) -> dict[str, Any]:
        """The next generation's key, committed before it is used; ``kept`` rides along (e.g. when the first
        generation began, which bounds a lookup)."""
        generation = int(held.get("generation") or 0) + 1
        fresh = {
            "key": f"{self.prefix}{self.verification.pk}-{generation}",
            "generation": generation,
            "first_used_at": timezone.now().isoformat(),
            **kept,
        }
        self.backend.remember(self.verification, provider_data={self.data_key: fresh})
        return fresh

    def drop(self, held: Mapping[str, Any]) -> None:
        """Never use this key again; ``key`` empty marks the drop, the rest of the ledger stays."""
        self.backend.remember(self.verification, provider_data={self.data_key: {**held, "key": ""}})
