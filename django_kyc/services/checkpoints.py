"""The writes behind a backend's checkpoints: provider references, committed the moment they exist.

Backends decide what to keep while they talk to a provider (:mod:`django_kyc.backends.checkpoints`); this
module is the only place those decisions reach the database. Each write is one ``UPDATE`` of reference
fields (provider ids and ``provider_data``), outside any status change and never touching a status, so it is
safe in the middle of a provider call: the row is not locked, and the transition service owns every status.
The in-memory object is updated too, so the backend goes on with what it just stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django_kyc.models import AmlCheck, Document, Verification

#: What a backend may commit on a verification.
VERIFICATION_FIELDS = frozenset({"provider_applicant_id", "provider_verification_id", "provider_data"})
#: What a backend may commit on an AML check.
AML_CHECK_FIELDS = frozenset({"provider_check_id", "provider_data"})


def _save(
    model: type[Verification] | type[AmlCheck], obj: Any, fields: Mapping[str, Any], allowed: frozenset[str]
) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"a backend cannot store {sorted(unknown)} on a {model.__name__}")
    for name, value in fields.items():
        setattr(obj, name, value)
    if fields:
        model.objects.filter(pk=obj.pk).update(**fields)


def save_verification(verification: Verification, fields: Mapping[str, Any]) -> None:
    """Store provider ids / ``provider_data`` on a verification (the values are final: merging is the caller's)."""
    _save(Verification, verification, fields, VERIFICATION_FIELDS)


def save_aml_check(aml_check: AmlCheck, fields: Mapping[str, Any]) -> None:
    """Store a screening's provider id / ``provider_data``."""
    _save(AmlCheck, aml_check, fields, AML_CHECK_FIELDS)


def save_document(document: Document, provider_document_id: str) -> None:
    """Store the provider's id for one of our documents."""
    document.provider_document_id = provider_document_id
    Document.objects.filter(pk=document.pk).update(provider_document_id=provider_document_id)
