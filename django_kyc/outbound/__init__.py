"""Events sent to the site's own services, the Standard Webhooks way (see ``docs/events.md``).

The catalogue of event types (:mod:`.catalogue`), signing and :func:`verify` for receivers (:mod:`.signing`), the
address rule (:mod:`.addresses`) and the delivery client (:mod:`.client`). Emitting an event is
``django_kyc.services.events.emit``; delivering it is ``django_kyc.services.outbound``.
"""

from __future__ import annotations

from django_kyc.outbound.signing import WebhookVerificationError, generate_secret, verify

__all__ = ["WebhookVerificationError", "generate_secret", "verify"]
