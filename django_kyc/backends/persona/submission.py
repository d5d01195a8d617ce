"""The create-or-find choreography of an inquiry, safe across crashes and lost answers.

Three ways back to the one inquiry a verification may have at Persona, tried in order:

1. the inquiry id already committed on the verification (a crash after the create was recorded);
2. the same ``Idempotency-Key``, while Persona still remembers it: the repeat of a create whose answer was lost
   gets that first answer again, not a second inquiry. The key is derived from our verification id and a
   generation, committed before it is first used;
3. a lookup by ``reference-id`` (the applicant's opaque reference) before creating under a new key: after the
   key's lifetime (``IDEMPOTENCY_KEY_TTL``), or after Persona answered under the old key with something a
   repeat would only replay (a 5xx, which Persona stores under the key) or refuse (a 409: the key is taken).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from django_kyc.backends.idempotency import IdempotencyKeys
from django_kyc.backends.parsing import iso_datetime, mapping, text
from django_kyc.backends.persona.client import INQUIRIES, resource
from django_kyc.backends.persona.state import created_at
from django_kyc.exceptions import PermanentProviderError, ProviderError, TransientProviderError

if TYPE_CHECKING:
    from django_kyc.backends.persona.backend import PersonaBackend
    from django_kyc.models import Verification

#: ``provider_data`` key of the idempotency key in use: ``{"key", "generation", "first_used_at", "since"}``.
KEY_DATA = "persona_idempotency"
#: Keys are ``f"{KEY_PREFIX}{verification.pk}-{generation}"``: ours alone, the same on every retry of one generation.
KEY_PREFIX = "django-kyc-inquiry-"
#: The kind of the checkpointed create call (:meth:`~django_kyc.backends.checkpoints.Checkpoints.creating`).
CREATE_KIND = "inquiry"
#: How far before our first create call an inquiry found by reference may have been created (clock skew).
CLOCK_SKEW = timedelta(minutes=5)


class InquirySubmission:
    """One attempt at giving ``verification`` its inquiry."""

    def __init__(self, backend: PersonaBackend, verification: Verification) -> None:
        self.backend = backend
        self.verification = verification
        self.client = backend.client
        self.keys = IdempotencyKeys(backend, verification, data_key=KEY_DATA, prefix=KEY_PREFIX)

    def inquiry(self) -> dict[str, Any]:
        """The verification's inquiry document: held, replayed, found again, or created."""
        verification = self.verification
        if verification.provider_verification_id:
            return self.client.get_inquiry(verification.provider_verification_id)
        held = self.keys.held()
        lost = bool(self.backend.unanswered(verification, CREATE_KIND))
        dropped = bool(held) and not text(held.get("key"))
        if (lost or dropped) and not self.keys.still_valid(held):
            found = self.find(held)
            if found is not None:
                inquiry_id = text(found.get("id"))
                self.backend.remember(verification, provider_verification_id=inquiry_id, settles=CREATE_KIND)
                return self.client.get_inquiry(inquiry_id)
            # looked for, not there: the unanswered calls created nothing; the next key is a new generation
            self.backend.remember(verification, settles=CREATE_KIND)
            held = {"generation": held.get("generation"), "since": held.get("since")}
        if not text(held.get("key")):
            # ``since``, when the first generation was first used, stays: it bounds the lookup by reference
            held = self.keys.new(held, since=text(held.get("since")) or timezone.now().isoformat())
        return self.create(text(held["key"]), held)

    def create(self, key: str, held: Mapping[str, Any]) -> dict[str, Any]:
        verification = self.verification
        attributes = self.backend.inquiry_attributes(verification)
        with self.backend.creating(verification, CREATE_KIND, f"POST {INQUIRIES} (Idempotency-Key {key})") as call:
            try:
                document = self.client.create_inquiry(attributes, key)
            except ProviderError as exc:
                status = exc.status_code or 0
                if status >= 500 or status == 409:
                    # Persona stored a 5xx under the key (a repeat would replay it) or refused it (409): the next
                    # attempt looks the inquiry up, then creates under a new key
                    self.keys.drop(held)
                if status == 409 and isinstance(exc, PermanentProviderError):
                    raise TransientProviderError(
                        f"Persona refused the idempotency key ({exc.message}); looking up before a new one",
                        provider=self.backend.provider,
                        status_code=status,
                    ) from exc
                raise
            inquiry_id = text(resource(document).get("id"))
            if not inquiry_id:
                raise PermanentProviderError(
                    "Persona answered the create call without an inquiry id", provider=self.backend.provider
                )
            call.remember(provider_verification_id=inquiry_id)
        if self.backend.unanswered(verification, CREATE_KIND):
            # a replayed answer: the earlier calls under this key created this very inquiry
            self.backend.remember(verification, settles=CREATE_KIND)
        return document

    def find(self, held: Mapping[str, Any]) -> dict[str, Any] | None:
        """Our inquiry among those Persona lists for the applicant's ``reference-id``: made from our template's
        create calls since this verification's first one (less some clock skew) and not already another
        verification's; the newest if several. ``None`` if there is none."""
        from django_kyc.models import Verification

        verification = self.verification
        since = (iso_datetime(held.get("since")) or verification.created_at) - CLOCK_SKEW
        reference = verification.applicant.reference
        candidates = [
            inquiry
            for inquiry in self.client.iter_inquiries(
                page_size=int(self.backend.option("PAGE_SIZE")), reference_id=reference
            )
            if text(mapping(inquiry.get("attributes")).get("reference-id")) == reference
            and (created_at(inquiry) or since) >= since
        ]
        if not candidates:
            return None
        taken = set(
            Verification.objects.filter(
                backend=self.backend.alias, provider_verification_id__in=[text(i.get("id")) for i in candidates]
            ).values_list("provider_verification_id", flat=True)
        )
        mine = [inquiry for inquiry in candidates if text(inquiry.get("id")) not in taken]
        return max(mine, key=lambda i: text(mapping(i.get("attributes")).get("created-at"))) if mine else None
