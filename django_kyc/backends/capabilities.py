"""What a backend can do, as a closed vocabulary the core reads.

A backend declares ``capabilities = frozenset({Capability.HOSTED_FLOW, ...})`` and the core asks
:meth:`~django_kyc.backends.base.KycBackend.supports` before it relies on one. Every member is read somewhere
outside the backends (``tests/backends/test_capabilities.py`` checks it), so declaring one always changes
what django-kyc does:

========================  ===========================================================================
capability                read by
========================  ===========================================================================
``document_upload``       the submission service: the applicant's uploaded documents become ``submitted``
                          only when the backend sends them to the provider
``hosted_flow``           the ``client-token`` endpoint (refused with a 400 for a backend without one)
``webhooks``              the webhook view (``webhooks/<alias>/`` answers 404 for a backend without them)
``polling``               the polling task and the sweeper
``reconcile``             ``kyc_reconcile``
``push_decision``         reviewer decisions (sent when ``OPTIONS["PUSH_DECISIONS"]`` is on too)
``aml`` / ``crypto_aml``  starting an AML check on a person / a wallet or transaction
``aml_report``            the AML check admin page (the report link)
``aml_monitoring``        re-screening: the applicant is enrolled in the provider's ongoing monitoring
                          (``enrol_monitoring``) instead of being screened again
``delete``                erasure: the provider is asked to delete, or the audit trail says it cannot
========================  ===========================================================================

The README's provider matrix is rendered from the shipped backends' declarations by
:mod:`django_kyc.backends.docs` (``tests/backends/test_docs.py`` keeps it in step).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable


class Capability(str, enum.Enum):
    """A feature a backend may have. Compares equal to its value, so ``"polling"`` still works as a key."""

    DOCUMENT_UPLOAD = "document_upload"
    HOSTED_FLOW = "hosted_flow"
    WEBHOOKS = "webhooks"
    POLLING = "polling"
    RECONCILE = "reconcile"
    PUSH_DECISION = "push_decision"
    AML = "aml"
    CRYPTO_AML = "crypto_aml"
    AML_REPORT = "aml_report"
    AML_MONITORING = "aml_monitoring"
    DELETE = "delete"

    def __str__(self) -> str:
        return self.value


#: The backends shipped with django-kyc, in the order the README lists them.
SHIPPED_BACKENDS = (
    "django_kyc.backends.sandbox.SandboxBackend",
    "django_kyc.backends.provide.ProvideBackend",
    "django_kyc.backends.kycaid.KycaidBackend",
    "django_kyc.backends.passportreader.PassportReaderBackend",
    "django_kyc.backends.allpass.AllpassBackend",
    "django_kyc.backends.argos.ArgosBackend",
    "django_kyc.backends.onfido.OnfidoBackend",
    "django_kyc.backends.stripe_identity.StripeIdentityBackend",
    "django_kyc.backends.sumsub.SumsubBackend",
    "django_kyc.backends.persona.PersonaBackend",
    "django_kyc.backends.veriff.VeriffBackend",
    "django_kyc.backends.lists.ListsBackend",
    "django_kyc.backends.yente.YenteBackend",
)


def as_capabilities(values: Iterable[Capability | str]) -> frozenset[Capability]:
    """Declared values as members; a string that names none is an error at class definition."""
    try:
        return frozenset(Capability(value) for value in values)
    except ValueError as exc:
        known = ", ".join(member.value for member in Capability)
        raise ValueError(f"{exc}; a backend's capabilities are among: {known}") from exc
