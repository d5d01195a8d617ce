"""PassportReader's callbacks: unsigned, so believed only through the sealed reference they carry back.

A callback is ``{"session_id", "session_state", "session_reference"}`` with no signature of any kind. It is
accepted only when its reference opens with one of our keys (:mod:`.crypto`) *and* names the verification
of this alias that holds the callback's ``session_id``; even then it is only a "go and look" signal, because
the state is always read back over the authenticated API (fetch-on-notify). ``docs/providers/passportreader.md``
("Callbacks") walks through what each refusal guards against.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django_kyc.backends.values import InboundWebhook, ProviderEvent
from django_kyc.exceptions import WebhookAuthenticationError, WebhookPayloadError


@dataclass(frozen=True)
class Callback:
    session_id: int
    state: str
    #: ``""`` when the callback carries none (it then cannot be authenticated)
    reference: str


def read_callback(webhook: InboundWebhook) -> Callback:
    """The callback's fields; :class:`WebhookPayloadError` if it is malformed."""
    payload = webhook.json_object("callback body")
    session_id, state = payload.get("session_id"), payload.get("session_state")
    if not isinstance(session_id, int) or isinstance(session_id, bool) or not isinstance(state, str) or not state:
        raise WebhookPayloadError("callback needs an integer session_id and a session_state")
    reference = payload.get("session_reference")
    return Callback(session_id, state, reference if isinstance(reference, str) else "")


def check_holder(alias: str, verification_id: str, session_id: int) -> None:
    """Refuse unless ``verification_id`` is a verification of ``alias`` holding session ``session_id``, so a
    genuine reference cannot be replayed against someone else's session."""
    from django_kyc.models import Verification

    try:
        uuid.UUID(verification_id)
    except ValueError as exc:
        raise WebhookAuthenticationError("reference names no verification of this backend") from exc
    holder = (
        Verification.objects.filter(pk=verification_id, backend=alias)
        .values_list("provider_verification_id", flat=True)
        .first()
    )
    if holder is None:
        raise WebhookAuthenticationError("reference names no verification of this backend")
    if holder != str(session_id):
        raise WebhookAuthenticationError("reference and session_id belong to different verifications")


def events_for(callback: Callback) -> list[ProviderEvent]:
    """One event per (session, state): the provider's only stable identity for a callback.

    The state is left to a fetch (``state=None``), so the callback's own ``session_state`` is never trusted,
    and it is only a claim (:attr:`ProviderEvent.claim`): whoever knows a session's reference can send any
    state, so the event holds ``<session>:<state>`` only once the fetched session is in that state. Until then
    a later genuine callback with that state is stored and applied, not dropped as a repeat.
    """
    return [
        ProviderEvent(
            event_id=f"{callback.session_id}:{callback.state}",
            event_type=f"session.{callback.state}"[:128],
            provider_ref=str(callback.session_id),
            state=None,
            claim=callback.state,
        )
    ]
