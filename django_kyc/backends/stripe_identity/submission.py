"""The create-or-find choreography of a VerificationSession, safe across crashes and lost answers.

Three ways back to the one session a verification may have at Stripe, tried in order:

1. the session id already committed on the verification (a crash after the create was recorded);
2. the same ``Idempotency-Key``, while Stripe still remembers it: the repeat of a create whose answer was lost
   gets that first answer again, not a second session. The key is derived from our verification id and a
   generation, committed before it is first used;
3. a lookup by ``client_reference_id`` (our verification id, also in ``metadata``) before creating under a new
   key: after the key's lifetime (``IDEMPOTENCY_KEY_TTL``), or after Stripe answered under the old key with
   something a repeat would only replay (a 5xx, an idempotency error).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django_kyc.backends.idempotency import IdempotencyKeys
from django_kyc.backends.parsing import mapping, text
from django_kyc.backends.stripe_identity.client import SESSIONS, IdempotencyKeyError
from django_kyc.backends.stripe_identity.statuses import META_VERIFICATION
from django_kyc.exceptions import PermanentProviderError, ProviderError

if TYPE_CHECKING:
    from django_kyc.backends.stripe_identity.backend import StripeIdentityBackend
    from django_kyc.models import Verification

#: ``provider_data`` key of the idempotency key in use: ``{"key", "generation", "first_used_at"}``.
KEY_DATA = "stripe_identity_idempotency"
#: Keys are ``f"{KEY_PREFIX}{verification.pk}-{generation}"``: ours alone, the same on every retry of one
#: generation, well under Stripe's 255 characters.
KEY_PREFIX = "django-kyc-vs-"
#: The kind of the checkpointed create call (:meth:`~django_kyc.backends.checkpoints.Checkpoints.creating`).
CREATE_KIND = "session"


class SessionSubmission:
    """One attempt at giving ``verification`` its session."""

    def __init__(self, backend: StripeIdentityBackend, verification: Verification) -> None:
        self.backend = backend
        self.verification = verification
        self.client = backend.client
        self.keys = IdempotencyKeys(backend, verification, data_key=KEY_DATA, prefix=KEY_PREFIX)

    def session(self) -> dict[str, Any]:
        """The verification's session: held, replayed, found again, or created."""
        verification = self.verification
        if verification.provider_verification_id:
            return self.client.get_session(verification.provider_verification_id)
        held = self.keys.held()
        lost = self.backend.unanswered(verification, CREATE_KIND)
        if lost and not self.keys.still_valid(held):
            found = self.find()
            if found is not None:
                self.backend.remember(verification, provider_verification_id=text(found["id"]), settles=CREATE_KIND)
                return found
            # looked for, not there: the unanswered calls created nothing; the next key is a new generation
            self.backend.remember(verification, settles=CREATE_KIND)
            held = {"generation": held.get("generation")}
        if not text(held.get("key")):
            held = self.keys.new(held)
        return self.create(text(held["key"]), held)

    def create(self, key: str, held: Mapping[str, Any]) -> dict[str, Any]:
        verification = self.verification
        params = self.backend.session_params(verification)
        with self.backend.creating(verification, CREATE_KIND, f"POST {SESSIONS} (Idempotency-Key {key})") as call:
            try:
                session = self.client.create_session(params, key)
            except ProviderError as exc:
                if _stored_under_key(exc):
                    # the next attempt looks the session up, then creates under a new key
                    self.keys.drop(held)
                raise
            session_id = text(session.get("id"))
            if not session_id:
                raise PermanentProviderError(
                    "Stripe answered the create call without an id", provider=self.backend.provider
                )
            call.remember(provider_verification_id=session_id)
        if self.backend.unanswered(verification, CREATE_KIND):
            # a replayed answer: the earlier calls under this key created this very session
            self.backend.remember(verification, settles=CREATE_KIND)
        return session

    def find(self) -> dict[str, Any] | None:
        """Our session among those Stripe lists for our ``client_reference_id`` (the filter is Stripe's; each
        listed session is checked again, by that field or our metadata), the newest if several; ``None`` if
        there is none."""
        ours = str(self.verification.pk)
        found = [
            session
            for session in self.client.iter_sessions(
                page_size=int(self.backend.option("PAGE_SIZE")), client_reference_id=ours
            )
            if text(session.get("client_reference_id")) == ours
            or text(mapping(session.get("metadata")).get(META_VERIFICATION)) == ours
        ]
        return max(found, key=lambda s: s.get("created") or 0) if found else None


def _stored_under_key(exc: ProviderError) -> bool:
    """Whether a repeat under the same key could only get this answer again: a 5xx (Stripe stores the answer of
    any request it began to run, failures included) or an idempotency error of 400 (the key belongs to other
    parameters). A 409 (a request under the key still running), a 429 and network failures keep the key: they
    never reached Stripe's idempotency layer, or the answer is still to come."""
    status = exc.status_code or 0
    return status >= 500 or (isinstance(exc, IdempotencyKeyError) and status == 400)
