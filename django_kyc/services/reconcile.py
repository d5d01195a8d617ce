"""Reconciliation: walk a provider's own list of verifications and apply anything we missed.

Webhooks get lost and polling only looks at verifications we know are waiting; a provider that can list
its submissions (ARGOS) lets us compare the whole book. Every state goes through the transition service,
so reconciling is safe to run at any time: older or already-applied states change nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.utils.translation import gettext as _

from django_kyc.backends import get_backend
from django_kyc.backends.base import ProviderEvent
from django_kyc.backends.capabilities import Capability
from django_kyc.exceptions import UnsupportedFeature
from django_kyc.models import Verification
from django_kyc.services import transitions
from django_kyc.services.audit import Change
from django_kyc.services.webhooks import match_verification
from django_kyc.status import Source


def reconcile(alias: str, since: datetime | None = None) -> Iterator[tuple[ProviderEvent, str]]:
    """Apply each state the provider lists; yields (event, outcome) where outcome is an Outcome value or
    ``unmatched`` (the provider knows a verification we do not, e.g. created outside this site)."""
    backend = get_backend(alias)
    if not backend.supports(Capability.RECONCILE):
        raise UnsupportedFeature(alias, _("reconciliation (it cannot list its verifications)"))
    for event in backend.reconcile(since):
        verification = match_verification(alias, event)
        if verification is None or event.state is None:
            yield event, "unmatched"
            continue
        if event.provider_ref and event.provider_ref != verification.provider_verification_id:
            # the provider's current record for this verification (e.g. a newer submission) is the one to follow
            Verification.objects.filter(pk=verification.pk).update(provider_verification_id=event.provider_ref)
        outcome = transitions.apply_provider_state(verification.pk, event.state, Change.provider(alias, Source.POLL))
        yield event, outcome.value
